#pragma once

#include <coroutine>
#include <exception>
#include <optional>
#include <stdexcept>
#include <utility>

namespace keel {

/// The return type of a yield provider: a coroutine that sets something up, `co_yield`s it,
/// and resumes after the handler (FastAPI's `yield` dependencies):
/// ```
/// keel::yield<keel::session> get_session(keel::session_factory& sessions) {
///     auto session = sessions.open();
///     try {
///         co_yield session;      // the handler runs here
///         session.commit();      // on success, before the response is written
///     } catch (...) {
///         session.rollback();    // the handler's exception is rethrown at the co_yield
///         throw;
///     }
/// }
/// ```
/// After a failure, rethrowing keeps the error; throwing another exception (an http_error, say)
/// replaces it; returning normally swallows it for the providers torn down after this one (the
/// client still gets the handler's error: there is no value to answer with).
template <class T>
class yield {
public:
    struct promise_type {
        std::optional<T> owned;      // a co_yield of a temporary lives here
        T* value = nullptr;          // what was yielded
        std::exception_ptr outcome;  // the handler's exception, rethrown at the co_yield
        std::exception_ptr escaped;  // what left the coroutine body

        struct resume_with_outcome {
            promise_type* promise;
            bool await_ready() const noexcept { return false; }
            void await_suspend(std::coroutine_handle<>) const noexcept {}
            void await_resume() const {
                if (promise->outcome) std::rethrow_exception(promise->outcome);
            }
        };

        yield get_return_object() noexcept {
            return yield(std::coroutine_handle<promise_type>::from_promise(*this));
        }
        std::suspend_always initial_suspend() const noexcept { return {}; }
        std::suspend_always final_suspend() const noexcept { return {}; }
        resume_with_outcome yield_value(T& v) noexcept {
            value = &v;
            return {this};
        }
        resume_with_outcome yield_value(T&& v) {
            owned.emplace(std::move(v));
            value = &*owned;
            return {this};
        }
        void return_void() const noexcept {}
        void unhandled_exception() noexcept { escaped = std::current_exception(); }
    };

    yield(yield&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
    yield& operator=(yield&&) = delete;
    ~yield() {
        if (handle_) handle_.destroy();  // a provider never resumed unwinds its locals here
    }

    /// Runs the set-up to the co_yield; returns the yielded value. Throws what the set-up threw.
    T& start() {
        handle_.resume();
        auto& p = handle_.promise();
        if (handle_.done()) {
            if (p.escaped) std::rethrow_exception(p.escaped);
            throw std::logic_error("keel: a yield provider finished without co_yield");
        }
        return *p.value;
    }

    /// Resumes after the handler with its outcome (null: success). Returns what the teardown
    /// ended with: null, the same exception, or a replacement.
    std::exception_ptr finish(const std::exception_ptr& outcome) noexcept {
        auto& p = handle_.promise();
        p.outcome = outcome;
        handle_.resume();
        if (!handle_.done()) {
            return std::make_exception_ptr(std::logic_error("keel: a yield provider may co_yield only once"));
        }
        return p.escaped;
    }

private:
    explicit yield(std::coroutine_handle<promise_type> h) noexcept : handle_(h) {}
    std::coroutine_handle<promise_type> handle_;
};

}  // namespace keel
