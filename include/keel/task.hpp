#pragma once

#include <coroutine>
#include <cstddef>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

namespace keel {

template <class T = void>
class task;

namespace detail {

// What every task's promise shares: who to resume when done, and the escaped exception.
struct task_promise_base {
    std::coroutine_handle<> continuation = std::noop_coroutine();
    std::exception_ptr error;

    struct final_awaiter {
        bool await_ready() const noexcept { return false; }
        template <class Promise>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> done) const noexcept {
            return done.promise().continuation;  // symmetric transfer: no stack growth
        }
        void await_resume() const noexcept {}
    };

    // Frames come from a per-thread cache of recently freed ones (src/http/task.cpp): a request
    // through a coroutine handler makes several frames, and a malloc/free pair for each showed.
    static void* operator new(std::size_t size);
    static void operator delete(void* frame, std::size_t size) noexcept;

    std::suspend_always initial_suspend() const noexcept { return {}; }  // lazy: runs when awaited
    final_awaiter final_suspend() const noexcept { return {}; }
    void unhandled_exception() noexcept { error = std::current_exception(); }
};

template <class T>
struct task_promise : task_promise_base {
    std::optional<T> value;

    task<T> get_return_object() noexcept;
    template <class U>
    requires std::is_convertible_v<U&&, T>
    void return_value(U&& v) { value.emplace(std::forward<U>(v)); }
    T take() {
        if (error) std::rethrow_exception(error);
        return std::move(*value);
    }
};

template <>
struct task_promise<void> : task_promise_base {
    task<void> get_return_object() noexcept;
    void return_void() const noexcept {}
    void take() const {
        if (error) std::rethrow_exception(error);
    }
};

}  // namespace detail

/// A lazily started coroutine producing a T: keel's one coroutine type, for handlers,
/// middleware and the server's own loops.
///
/// `co_await` a task to run it and get its value (or its exception). A handler returning
/// `keel::task<R>` runs on an I/O thread and must not block: wrap blocking calls in
/// `co_await keel::offload(...)`. A task is move-only and owns its coroutine frame.
template <class T>
class [[nodiscard]] task {
public:
    using promise_type = detail::task_promise<T>;
    using value_type = T;

    task(task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
    task& operator=(task&& other) noexcept {
        if (this != &other) {
            if (handle_) handle_.destroy();
            handle_ = std::exchange(other.handle_, {});
        }
        return *this;
    }
    task(const task&) = delete;
    task& operator=(const task&) = delete;
    ~task() {
        if (handle_) handle_.destroy();
    }

    auto operator co_await() && noexcept { return awaiter{handle_}; }
    auto operator co_await() & noexcept { return awaiter{handle_}; }

private:
    friend promise_type;
    explicit task(std::coroutine_handle<promise_type> h) noexcept : handle_(h) {}

    struct awaiter {
        std::coroutine_handle<promise_type> handle;
        bool await_ready() const noexcept { return false; }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) const noexcept {
            handle.promise().continuation = awaiting;
            return handle;
        }
        T await_resume() const { return handle.promise().take(); }
    };

    std::coroutine_handle<promise_type> handle_;
};

namespace detail {

template <class T>
task<T> task_promise<T>::get_return_object() noexcept {
    return task<T>{std::coroutine_handle<task_promise<T>>::from_promise(*this)};
}

inline task<void> task_promise<void>::get_return_object() noexcept {
    return task<void>{std::coroutine_handle<task_promise<void>>::from_promise(*this)};
}

template <class T>
struct is_task : std::false_type {};
template <class T>
struct is_task<task<T>> : std::true_type {};

// A fire-and-forget coroutine: starts at once, frees itself when it ends.
struct detached_coroutine {
    struct promise_type {
        detached_coroutine get_return_object() const noexcept { return {}; }
        std::suspend_never initial_suspend() const noexcept { return {}; }
        std::suspend_never final_suspend() const noexcept { return {}; }
        void return_void() const noexcept {}
        void unhandled_exception() const noexcept { std::terminate(); }  // `done` must not throw
    };
};

template <class T, class Done>
detached_coroutine run_detached(task<T> work, Done done) {
    std::exception_ptr error;
    if constexpr (std::is_void_v<T>) {
        try {
            co_await std::move(work);
        } catch (...) {
            error = std::current_exception();
        }
        done(error);
    } else {
        std::optional<T> value;
        try {
            value.emplace(co_await std::move(work));
        } catch (...) {
            error = std::current_exception();
        }
        done(std::move(value), error);
    }
}

/// Starts `work` now and calls `done` when it finishes: `done(exception_ptr)` for task<void>,
/// `done(std::optional<T>, exception_ptr)` otherwise. `done` must not throw.
template <class T, class Done>
void start_detached(task<T> work, Done done) {
    run_detached(std::move(work), std::move(done));
}

}  // namespace detail
}  // namespace keel
