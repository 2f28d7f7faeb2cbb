#pragma once

#include <cstdint>

namespace keel::detail {

/// A key per type, unique in the process.
template <class T>
std::uintptr_t type_key() noexcept {
    static const char tag = 0;
    return reinterpret_cast<std::uintptr_t>(&tag);
}

}  // namespace keel::detail
