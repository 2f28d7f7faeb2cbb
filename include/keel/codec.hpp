#pragma once

// keel::codec<T>: the one place that says how a value type travels. Every direction asks it:
// a path, query or header value; a statement parameter; a result column; a JSON field.

#include <concepts>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace keel {

class schema;  // <keel/schema.hpp>: a type's JSON Schema, for the OpenAPI document

/// Why a text did not convert: becomes one entry of a 422 (request values, JSON fields) or the
/// reason in a column mapping error.
struct parse_failure {
    std::string msg;
    std::string type;  ///< pydantic-style error type, e.g. "type_error.integer"
};

/// How T travels as text. keel's own types are mapped by specialising it, and so are yours:
/// ```
/// template <>
/// struct keel::codec<color> {
///     // Request values (path, query, header), JSON strings and, unless from_column says
///     // otherwise, PostgreSQL's text output.
///     static std::optional<color> parse(std::string_view text, keel::parse_failure& why);
///     // The text PostgreSQL reads as a statement parameter, and the JSON string.
///     static void format(std::string& out, const color& value);
/// };
/// ```
/// Optional members:
/// - `static std::optional<T> from_column(std::string_view text, parse_failure& why)` when
///   PostgreSQL's text output differs from the request form (bytea's hex, say);
/// - `static void write_json(std::string& out, const T& value)` for a JSON form other than a
///   string of format()'s text (numbers, say);
/// - `static void describe(keel::schema& s)`: its JSON Schema in the OpenAPI document
///   (<keel/schema.hpp>; without it a string, or any value when it has write_json).
/// With those two members a type serves as `path<T>`, `query<T>`, `header<T>`, a `body<T>` or
/// `KEEL_MODEL` field, a statement parameter and a column; `std::optional<T>` and
/// `std::vector<T>` of it follow.
template <class T, class Enable = void>
struct codec {
    using keel_no_codec = void;  // the primary template: T is not mapped
};

/// Whether codec<T> has been specialised.
template <class T>
concept mapped = !requires {
    typename codec<T>::keel_no_codec;
};

namespace detail {
// The number codecs' work, compiled once (src/http/codec.cpp): `bits` names the width in the
// out-of-range message.
std::optional<std::int64_t> parse_signed(std::string_view text, std::int64_t min, std::int64_t max, int bits,
                                         parse_failure& why);
std::optional<std::uint64_t> parse_unsigned(std::string_view text, std::uint64_t max, int bits,
                                            parse_failure& why);
void format_signed(std::string& out, std::int64_t value);
void format_unsigned(std::string& out, std::uint64_t value);
template <std::floating_point T>
std::optional<T> parse_floating(std::string_view text, parse_failure& why);  // float, double
// The shortest text that reads back as the same value (1e-09, not 0.000000); NaN and the
// infinities as PostgreSQL spells them.
void format_floating(std::string& out, double value);
void format_floating(std::string& out, float value);
// JSON numbers: NaN and the infinities have no JSON form and are written as null.
void append_json_double(std::string& out, double value);

template <class T>
concept character = std::same_as<T, char> || std::same_as<T, signed char> || std::same_as<T, unsigned char> ||
    std::same_as<T, wchar_t> || std::same_as<T, char8_t> || std::same_as<T, char16_t> ||
    std::same_as<T, char32_t>;
}  // namespace detail

/// Integers of any width; a text out of the type's range is refused, never wrapped. char types
/// are not integers here (a letter, or a number?): use a std::string or a sized integer.
template <std::integral T>
requires(!std::same_as<T, bool> && !detail::character<T>) struct codec<T> {
    static std::optional<T> parse(std::string_view text, parse_failure& why) {
        constexpr auto min = std::numeric_limits<T>::min(), max = std::numeric_limits<T>::max();
        constexpr int bits = sizeof(T) * 8;
        if constexpr (std::is_signed_v<T>) {
            const auto v = detail::parse_signed(text, min, max, bits, why);
            return v ? std::optional<T>(static_cast<T>(*v)) : std::nullopt;
        } else {
            const auto v = detail::parse_unsigned(text, max, bits, why);
            return v ? std::optional<T>(static_cast<T>(*v)) : std::nullopt;
        }
    }
    static void format(std::string& out, T value) {
        if constexpr (std::is_signed_v<T>) {
            detail::format_signed(out, value);
        } else {
            detail::format_unsigned(out, value);
        }
    }
    static void write_json(std::string& out, T value) { format(out, value); }
};

/// float and double, exactly: the shortest text that reads back as the same value. long double
/// has no lossless PostgreSQL type and is not mapped.
template <class T>
requires(std::same_as<T, float> || std::same_as<T, double>) struct codec<T> {
    static std::optional<T> parse(std::string_view text, parse_failure& why) {
        return detail::parse_floating<T>(text, why);
    }
    static void format(std::string& out, T value) { detail::format_floating(out, value); }
    static void write_json(std::string& out, T value) { detail::append_json_double(out, value); }
};

/// `true/false/1/0/yes/no/on/off/y/n/t/f` in requests (PostgreSQL writes `t` and `f`).
template <>
struct codec<bool> {
    static std::optional<bool> parse(std::string_view text, parse_failure& why);
    static void format(std::string& out, bool value) { out += value ? "true" : "false"; }
    static void write_json(std::string& out, bool value) { format(out, value); }
};

template <>
struct codec<std::string> {
    static std::optional<std::string> parse(std::string_view text, parse_failure&) {
        return std::string(text);
    }
    static void format(std::string& out, const std::string& value) { out += value; }
};

/// A view into the request (or the result) it was read from: valid as long as that is.
template <>
struct codec<std::string_view> {
    static std::optional<std::string_view> parse(std::string_view text, parse_failure&) { return text; }
    static void format(std::string& out, std::string_view value) { out += value; }
};

namespace detail {

template <class T>
concept has_from_column = requires(std::string_view text, parse_failure& why) {
    { codec<T>::from_column(text, why) } -> std::same_as<std::optional<T>>;
};

template <class T>
concept has_write_json = requires(std::string& out, const T& value) {
    codec<T>::write_json(out, value);
};

// One-dimensional arrays, in PostgreSQL's text form: every element double-quoted and escaped
// ("{\"a\",NULL}"), which every element type reads.
void append_array_element(std::string& out, const std::optional<std::string>& element);
// The elements of an array's text output (nullopt: a NULL element); nullopt with `why` for a
// text that is not a one-dimensional array.
std::optional<std::vector<std::optional<std::string>>> split_array(std::string_view text, parse_failure& why);

/// T read from PostgreSQL's text output.
template <class T>
std::optional<T> parse_column(std::string_view text, parse_failure& why) {
    if constexpr (has_from_column<T>) {
        return codec<T>::from_column(text, why);
    } else {
        return codec<T>::parse(text, why);
    }
}

}  // namespace detail

}  // namespace keel
