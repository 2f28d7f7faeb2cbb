#pragma once

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

    /// Runs every teardown newest first; returns the final outcome (null: success).
    std::exception_ptr finish(std::exception_ptr outcome) noexcept;

private:
    struct cached {
        std::uintptr_t key;
        void* object;
    };
    struct owned {
        void* object;
        void (*destroy)(void*);
    };
    std::vector<cached> cache_;
    std::vector<owned> owned_;
    std::vector<std::function<std::exception_ptr(std::exception_ptr)>> teardowns_;
};

}  // namespace keel::detail
