#pragma once

#include <cstddef>
#include <string_view>

namespace keel::detail {

// A string literal usable as a template argument: keel::query<int, "limit">.
template <std::size_t N>
struct fixed_string {
    char chars[N]{};

    constexpr fixed_string(const char (&text)[N]) noexcept {
        for (std::size_t i = 0; i < N; ++i) chars[i] = text[i];
    }
    constexpr std::string_view view() const noexcept { return {chars, N - 1}; }
    constexpr bool empty() const noexcept { return N <= 1; }
};

}  // namespace keel::detail
