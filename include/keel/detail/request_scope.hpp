#pragma once

#include <keel/task.hpp>

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <vector>

namespace keel::detail {

// One request's dependency instances and the stack of their teardowns.
//
// Request-scoped values are cached by provider key, so every dependant in the request shares
// one; transient values are owned here too but never cached. finish() runs the
// teardowns newest first with the handler's outcome; a scope destroyed without finish() (the
// request was abandoned) tears down with a "request abandoned" error, never silently as success.
//
// A teardown either runs to its end when called (a keel::yield provider's, which may block) or
// is awaited (a keel::async_yield provider's). A coroutine handler's pipeline takes them one
// kind at a time: finish_blocking() up to the next awaited one, finish_next_awaited() for it.
class request_scope {
public:
    request_scope() = default;
    request_scope(const request_scope&) = delete;
    request_scope& operator=(const request_scope&) = delete;
    ~request_scope();

    /// The cached request-scoped value of provider `key`, or null.
    void* find(std::uintptr_t key) const noexcept;
    /// Caches `object` as the request's value of provider `key`.
    void remember(std::uintptr_t key, void* object) { cache_.push_back({key, object}); }
    /// Keeps `value` alive until the scope ends (after every teardown has run).
    template <class T>
    T& keep(std::unique_ptr<T> value) {
        owned_.reserve(owned_.size() + 1);  // so that push_back cannot throw after release()
        T* raw = value.release();
        owned_.push_back({raw, [](void* p) { delete static_cast<T*>(p); }});
        return *raw;
    }
    /// Registers a teardown; it receives the current outcome and returns the new one.
    void on_finish(std::function<std::exception_ptr(std::exception_ptr)> teardown);

    /// Registers a teardown that is awaited (it may await, on the thread that awaits it).
    void on_finish_awaiting(std::function<task<std::exception_ptr>(std::exception_ptr)> teardown);

    /// Runs every teardown newest first, then destroys the values; returns the final outcome
    /// (null: success). An awaited teardown cannot run here: it is skipped, and the outcome
    /// becomes an error (the app's graph check keeps them from plain handlers).
    std::exception_ptr finish(std::exception_ptr outcome) noexcept;

    /// Whether teardowns are left, and whether the newest of them is awaited.
    bool has_teardowns() const noexcept { return !teardowns_.empty(); }
    bool next_is_awaited() const noexcept { return !teardowns_.empty() && teardowns_.back().awaited; }
    /// Runs teardowns newest first up to the next awaited one (or the last); returns the outcome.
    std::exception_ptr finish_blocking(std::exception_ptr outcome) noexcept;
    /// Awaits the newest teardown, an awaited one; returns the outcome.
    task<std::exception_ptr> finish_next_awaited(std::exception_ptr outcome);
    /// Destroys the values, newest first, once every teardown has run.
    void release_values() noexcept;

private:
    struct cached {
        std::uintptr_t key;
        void* object;
    };
    struct owned {
        void* object;
        void (*destroy)(void*);
    };
    struct teardown_entry {
        std::function<std::exception_ptr(std::exception_ptr)> run;
        std::function<task<std::exception_ptr>(std::exception_ptr)> awaited_run;
        bool awaited = false;
    };
    std::vector<cached> cache_;
    std::vector<owned> owned_;
    std::vector<teardown_entry> teardowns_;
};

}  // namespace keel::detail
