#pragma once

#include <coroutine>
#include <exception>
#include <optional>
#include <stdexcept>
#include <utility>

namespace keel {

/// The return type of a yield provider whose teardown awaits: it sets something up, `co_yield`s
/// it, and after the handler resumes with its outcome, where it may `co_await` (a COMMIT, say)
/// before the response is written. What keel::get_async_session is:
/// ```
/// keel::async_yield<keel::async_session> get_async_session(keel::session_factory& sessions) {
///     auto db = sessions.open_async();
///     std::exception_ptr failure;
///     try {
///         co_yield db;             // the handler runs here
///     } catch (...) {
///         failure = std::current_exception();
///     }
///     if (failure) {
///         co_await db.rollback();  // co_await is not allowed inside a catch block
///         std::rethrow_exception(failure);
///     }
///     co_await db.commit();        // once, on success; a failure answers with an error
/// }
/// ```
/// Only coroutine handlers (returning keel::task), and providers they use, may depend on one:
/// the app refuses to build otherwise. The set-up, before the co_yield, runs while the
/// handler's parameters are bound and cannot await (std::logic_error if it tries): open
/// things lazily, as sessions do. Exceptions behave as with keel::yield.
template <class T>
class async_yield {
public:
    struct promise_type {
        std::optional<T> owned;      // a co_yield of a temporary lives here
        T* value = nullptr;          // what was yielded
        std::exception_ptr outcome;  // the handler's exception, rethrown at the co_yield
        std::exception_ptr escaped;  // what left the coroutine body
        std::coroutine_handle<> continuation = std::noop_coroutine();  // who awaits the teardown
        bool yielded = false;
        bool yielded_again = false;

        struct resume_with_outcome {
            promise_type* promise;
            bool await_ready() const noexcept { return false; }
            std::coroutine_handle<> await_suspend(std::coroutine_handle<>) const noexcept {
                // The first co_yield hands the value to start(); a second one ends the
                // teardown with an error (the frame stays suspended until destroyed).
                if (promise->yielded_again) return promise->continuation;
                return std::noop_coroutine();
            }
            void await_resume() const {
                if (promise->outcome) std::rethrow_exception(promise->outcome);
            }
        };
        struct final_awaiter {
            bool await_ready() const noexcept { return false; }
            std::coroutine_handle<> await_suspend(std::coroutine_handle<promise_type> done) const noexcept {
                return done.promise().continuation;
            }
            void await_resume() const noexcept {}
        };

        async_yield get_return_object() noexcept {
            return async_yield(std::coroutine_handle<promise_type>::from_promise(*this));
        }
        std::suspend_always initial_suspend() const noexcept { return {}; }
        final_awaiter final_suspend() const noexcept { return {}; }
        resume_with_outcome yield_value(T& v) noexcept {
            mark_yield();
            value = &v;
            return {this};
        }
        resume_with_outcome yield_value(T&& v) {
            mark_yield();
            if (!yielded_again) {
                owned.emplace(std::move(v));
                value = &*owned;
            }
            return {this};
        }
        template <class A>
        A&& await_transform(A&& awaited) const {
            if (!yielded) {
                throw std::logic_error(
                    "keel: an async_yield provider cannot co_await before its co_yield (its set-up runs "
                    "while the handler's parameters are bound); open what it yields lazily");
            }
            return std::forward<A>(awaited);
        }
        void return_void() const noexcept {}
        void unhandled_exception() noexcept { escaped = std::current_exception(); }

    private:
        void mark_yield() noexcept {
            if (yielded) yielded_again = true;
            yielded = true;
        }
    };

    async_yield(async_yield&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
    async_yield& operator=(async_yield&&) = delete;
    ~async_yield() {
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

    /// `co_await finish(outcome)`: resumes after the handler with its outcome (null: success)
    /// and completes when the teardown has. Gives what the teardown ended with: null, the same
    /// exception, or a replacement.
    auto finish(std::exception_ptr outcome) noexcept {
        struct awaiter {
            std::coroutine_handle<promise_type> provider;
            std::exception_ptr outcome;
            bool await_ready() const noexcept { return false; }
            std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
                auto& p = provider.promise();
                p.outcome = std::move(outcome);
                p.continuation = awaiting;
                return provider;
            }
            std::exception_ptr await_resume() const {
                const auto& p = provider.promise();
                if (p.yielded_again) {
                    return std::make_exception_ptr(
                        std::logic_error("keel: a yield provider may co_yield only once"));
                }
                return p.escaped;
            }
        };
        return awaiter{handle_, std::move(outcome)};
    }

private:
    explicit async_yield(std::coroutine_handle<promise_type> h) noexcept : handle_(h) {}
    std::coroutine_handle<promise_type> handle_;
};

}  // namespace keel
