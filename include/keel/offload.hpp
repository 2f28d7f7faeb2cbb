#pragma once

#include <keel/detail/blocking.hpp>

#include <exception>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace keel {

/// The server's worker pool has more blocking work queued than `worker_queue_limit`: the
/// request is answered 503 with `Retry-After: 1` (nothing of it ran).
class server_busy : public std::runtime_error {
public:
    server_busy();
    /// Why, when it is not the queue (the request's deadline passed while it waited).
    explicit server_busy(const char* why);
};

/// `co_await keel::offload(fn)` runs the blocking callable `fn` on the server's worker pool
/// and resumes the awaiting coroutine on its I/O thread with fn's result (or exception).
///
/// This is how a coroutine handler calls blocking code (libpqxx, file I/O) without stalling
/// the other connections of its I/O thread. Plain (non-coroutine) handlers are offloaded this
/// way by keel itself. Outside a server (the in-process test client) `fn` runs inline. When the
/// pool's queue is full the await throws keel::server_busy (answered 503 with `Retry-After`).
/// `fn` runs where blocking is allowed: keel's blocking database calls work inside it.
template <class F>
auto offload(F fn) {
    using result_type = std::invoke_result_t<F&>;
    using stored_type = std::conditional_t<std::is_void_v<result_type>, bool, result_type>;

    struct awaiter : detail::blocking_job {
        F fn;
        std::optional<stored_type> result;
        std::exception_ptr error;
        bool rejected = false;

        explicit awaiter(F&& f) : fn(std::move(f)) {}

        static void call(detail::blocking_job& job) noexcept {
            auto& self = static_cast<awaiter&>(job);
            try {
                if constexpr (std::is_void_v<result_type>) {
                    self.fn();
                    self.result.emplace(true);
                } else {
                    self.result.emplace(self.fn());
                }
            } catch (...) {
                self.error = std::current_exception();
            }
        }

        bool await_ready() const noexcept { return false; }
        bool await_suspend(std::coroutine_handle<> awaiting) noexcept {
            run = &call;
            continuation = awaiting;
            switch (detail::submit_blocking(*this)) {
                case detail::submit_result::queued:
                    return true;
                case detail::submit_result::run_inline: {
                    const detail::thread_role may_block(false);
                    call(*this);
                    return false;
                }
                case detail::submit_result::rejected:
                    rejected = true;
                    return false;
            }
            return false;
        }
        result_type await_resume() {
            if (rejected) detail::throw_server_busy();
            if (error) std::rethrow_exception(error);
            if constexpr (!std::is_void_v<result_type>) return std::move(*result);
        }
    };
    return awaiter{std::move(fn)};
}

}  // namespace keel
