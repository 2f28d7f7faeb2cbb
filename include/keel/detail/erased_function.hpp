#pragma once

// A move-only callable of one signature, owning its target: what handler_info keeps of each
// handler. std::function would do, but a handler file instantiates its manager, copy support
// and constraint checks once per route; this is two small functions per target.

#include <utility>

namespace keel::detail {

template <class Signature>
class erased_function;

template <class R, class... Args>
class erased_function<R(Args...)> {
public:
    erased_function() noexcept = default;
    template <class F>
    explicit erased_function(F target)
        : target_(new F(std::move(target))), call_(&call<F>), destroy_(&destroy<F>) {}

    erased_function(erased_function&& other) noexcept
        : target_(std::exchange(other.target_, nullptr)),
          call_(std::exchange(other.call_, nullptr)),
          destroy_(std::exchange(other.destroy_, nullptr)) {}
    erased_function& operator=(erased_function&& other) noexcept {
        erased_function(std::move(other)).swap(*this);
        return *this;
    }
    erased_function(const erased_function&) = delete;
    erased_function& operator=(const erased_function&) = delete;
    ~erased_function() {
        if (target_) destroy_(target_);
    }

    R operator()(Args... args) const { return call_(target_, std::forward<Args>(args)...); }

private:
    void swap(erased_function& other) noexcept {
        std::swap(target_, other.target_);
        std::swap(call_, other.call_);
        std::swap(destroy_, other.destroy_);
    }
    template <class F>
    static R call(void* target, Args... args) {
        return (*static_cast<F*>(target))(std::forward<Args>(args)...);
    }
    template <class F>
    static void destroy(void* target) noexcept {
        delete static_cast<F*>(target);
    }

    void* target_ = nullptr;
    R (*call_)(void*, Args...) = nullptr;
    void (*destroy_)(void*) noexcept = nullptr;
};

}  // namespace keel::detail
