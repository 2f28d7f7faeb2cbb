#pragma once

#include <charconv>
#include <concepts>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace keel {

/// Why a path, query or header value did not convert; becomes one entry of a 422.
struct parse_failure {
    std::string msg;
    std::string type;
};

/// Converts the text of a path, query or header parameter into a T.
///
/// Specialise it for your own types:
/// `template <> struct keel::param_parser<color> { static std::optional<color> parse(std::string_view,
/// parse_failure&); };`
template <class T, class Enable = void>
struct param_parser {
    static_assert(sizeof(T) == 0,
                  "keel: no param_parser<T> for this parameter type; use an integer, floating point, bool, "
                  "std::string or std::string_view, or specialise keel::param_parser<T>");
};

template <std::integral T>
requires(!std::same_as<T, bool>) struct param_parser<T> {
    static std::optional<T> parse(std::string_view text, parse_failure& why) {
        if (!text.empty() && text.front() == '+') text.remove_prefix(1);  // like Python's int("+5")
        T value{};
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (ec == std::errc::result_out_of_range) {
            why = {"value is out of range for a " + std::to_string(sizeof(T) * 8) + "-bit integer",
                   "value_error.number.not_in_range"};
            return std::nullopt;
        }
        if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) {
            why = {"value is not a valid integer", "type_error.integer"};
            return std::nullopt;
        }
        return value;
    }
};

template <std::floating_point T>
struct param_parser<T> {
    static std::optional<T> parse(std::string_view text, parse_failure& why) {
        T value{};
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) {
            why = {"value is not a valid float", "type_error.float"};
            return std::nullopt;
        }
        return value;
    }
};

template <>
struct param_parser<bool> {
    static std::optional<bool> parse(std::string_view text, parse_failure& why);
};

template <>
struct param_parser<std::string> {
    static std::optional<std::string> parse(std::string_view text, parse_failure&) {
        return std::string(text);
    }
};

/// A view into the request; valid while the request is (the handler's whole run).
template <>
struct param_parser<std::string_view> {
    static std::optional<std::string_view> parse(std::string_view text, parse_failure&) { return text; }
};

}  // namespace keel
