#pragma once

#include <concepts>
#include <cstdint>
#include <limits>
#include <string_view>

namespace keel {

namespace detail {
std::uint64_t parse_setting_number(std::string_view what, std::string_view text, std::uint64_t min,
                                   std::uint64_t max);
}  // namespace detail

/// A whole number from an environment variable or a flag, in [min, max]. Throws
/// std::invalid_argument naming `what` ("POOL_SIZE", "--port"), the range and the text: every
/// numeric setting of keel (and of an application that uses this) says the same thing.
template <std::unsigned_integral N>
N parse_setting(std::string_view what, std::string_view text, N min = 0,
                N max = std::numeric_limits<N>::max()) {
    return static_cast<N>(detail::parse_setting_number(what, text, min, max));
}

/// An on/off setting: 1/true/on/yes or 0/false/off/no (any case); std::invalid_argument otherwise.
bool parse_setting_flag(std::string_view what, std::string_view text);

}  // namespace keel
