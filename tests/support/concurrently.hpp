#pragma once

// Runs tasks at once on the calling thread's event loop and completes when every one has: how
// a test shows that awaited work holds no thread (several waits overlap on one thread).

#include <keel/task.hpp>

#include <coroutine>
#include <cstddef>
#include <exception>
#include <utility>
#include <vector>

namespace keel_test {

class concurrently {
public:
    explicit concurrently(std::vector<keel::task<void>> tasks) : tasks_(std::move(tasks)) {}

    bool await_ready() const noexcept { return tasks_.empty(); }
    bool await_suspend(std::coroutine_handle<> waiting) {
        waiting_ = waiting;
        left_ = tasks_.size() + 1;  // + 1 until every task has started
        for (auto& t : tasks_) {
            keel::detail::start_detached(std::move(t), [this](std::exception_ptr e) {
                if (e && !error_) error_ = e;
                if (--left_ == 0) waiting_.resume();
            });
        }
        return --left_ != 0;  // all finished already: do not suspend
    }
    void await_resume() const {
        if (error_) std::rethrow_exception(error_);
    }

private:
    std::vector<keel::task<void>> tasks_;
    std::coroutine_handle<> waiting_;
    std::size_t left_ = 0;
    std::exception_ptr error_;
};

}  // namespace keel_test
