#pragma once

#include <keel/detail/blocking.hpp>
#include <keel/http_error.hpp>

#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

namespace keel {

/// `co_await keel::offload(fn)` runs the blocking callable `fn` on the server's worker pool
/// and resumes the awaiting coroutine on its I/O thread with fn's result (or exception).
///
/// This is how a coroutine handler calls blocking code (libpqxx, file I/O) without stalling
/// the other connections of its I/O thread. Plain (non-coroutine) handlers are offloaded this
/// way by keel itself. Outside a server (the in-process test client) `fn` runs inline. When the
/// pool's queue is full the await throws `http_error` 503 with `Retry-After`.
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
                case detail::submit_result::queued: return true;
                case detail::submit_result::run_inline: call(*this); return false;
                case detail::submit_result::rejected: rejected = true; return false;
            }
            return false;
        }
        result_type await_resume() {
            if (rejected) {
                header_map retry;
                retry.set("Retry-After", "1");
                throw http_error(status::service_unavailable, "server busy", std::move(retry));
            }
            if (error) std::rethrow_exception(error);
            if constexpr (!std::is_void_v<result_type>) return std::move(*result);
        }
    };
    return awaiter{std::move(fn)};
}

}  // namespace keel
