#pragma once

// Where a handler's bound arguments wait between binding and the call. std::optional and
// std::tuple would do, but their constructors' constraints are among the costliest templates a
// handler file instantiates (one set per parameter type and per signature); these hold a value
// and nothing more.

#include <cstddef>
#include <new>
#include <utility>

namespace keel::detail {

/// Room for one T, empty until emplace(); destroys what it holds.
template <class T>
class slot {
public:
    slot() noexcept = default;
    slot(const slot&) = delete;
    slot& operator=(const slot&) = delete;
    ~slot() {
        if (full_) get().~T();
    }

    template <class... Args>
    void emplace(Args&&... args) {
        ::new (static_cast<void*>(storage_)) T(std::forward<Args>(args)...);
        full_ = true;
    }
    T& get() noexcept { return *std::launder(reinterpret_cast<T*>(storage_)); }

private:
    alignas(T) unsigned char storage_[sizeof(T)];  // a T only while full_
    bool full_ = false;
};

template <std::size_t I, class T>
struct slot_leaf {
    T value{};
};

template <class Indices, class... T>
struct slot_pack_of;

template <std::size_t... I, class... T>
struct slot_pack_of<std::index_sequence<I...>, T...> : slot_leaf<I, T>... {};

/// One T of each, default-initialised, reached by position: slot_at<I>(pack).
template <class... T>
using slot_pack = slot_pack_of<std::index_sequence_for<T...>, T...>;

template <std::size_t I, class T>
T& slot_at(slot_leaf<I, T>& leaf) noexcept {
    return leaf.value;
}

}  // namespace keel::detail
