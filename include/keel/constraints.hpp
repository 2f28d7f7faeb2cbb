#pragma once

// Declarative constraints on model fields and request parameters, like pydantic's Field(gt=0):
// ```
// struct transfer_in {
//     std::int64_t amount;
//     std::string memo;
//     KEEL_MODEL(transfer_in, (amount, gt(0)), (memo, max_length(200), description("shown on statements")))
// };
// app.get("/users", [](keel::query<int, "limit", 20, keel::ge(1), keel::le(100)> limit) { ... });
// ```
// The binder checks them with the value's other failures (one 422 naming every field, with
// pydantic's error types such as `value_error.number.not_gt`), and the OpenAPI document shows
// them (exclusiveMinimum, maxLength, ...). Each is a constant, checked when the program compiles:
// a length on an integer, or a negative length, does not build.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>

namespace keel {

namespace detail {

// A bound or a step, exact for integers and for doubles alike.
struct number_limit {
    bool integral = false;
    std::int64_t integer = 0;
    double real = 0;
};

template <class N>
constexpr number_limit limit_of(N value) {
    static_assert(std::is_arithmetic_v<N> && !std::is_same_v<N, bool>,
                  "keel: a numeric constraint takes a number");
    if constexpr (std::is_integral_v<N>) {
        if constexpr (std::is_unsigned_v<N>) {
            if (value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
                throw "keel: a numeric constraint's integer must fit std::int64_t";
        }
        return {true, static_cast<std::int64_t>(value), static_cast<double>(value)};
    } else {
        if (!(value == value) || value - value != 0) throw "keel: a numeric constraint must be finite";
        return {false, 0, static_cast<double>(value)};
    }
}

template <std::size_t N>
struct rule_text {
    char chars[N]{};
    constexpr rule_text(const char (&text)[N]) noexcept {  // NOLINT: built from a literal
        for (std::size_t i = 0; i < N; ++i) chars[i] = text[i];
    }
};

}  // namespace detail

/// The constraints, each a value usable as a template argument. They live in an inline
/// namespace so that KEEL_MODEL can name them unqualified (`(amount, gt(0))`); write
/// `keel::gt(0)` where a field of the model has the same name as a constraint.
inline namespace constraints {

/// gt, ge, lt, le, multiple_of: for integer and floating-point values.
struct number_rule {
    using keel_rule = void;
    enum op_t { gt, ge, lt, le, multiple_of } op;
    detail::number_limit limit;
};

/// min_length, max_length (characters, for strings) and min_items, max_items (for lists).
struct size_rule {
    using keel_rule = void;
    enum op_t { min_length, max_length, min_items, max_items } op;
    std::size_t size;
};

/// pattern (a regular expression a string must contain a match of), description, and a
/// string example.
template <std::size_t N>
struct text_rule {
    using keel_rule = void;
    enum op_t { pattern, description, example } op;
    detail::rule_text<N> text;
};

/// A number or boolean example.
struct example_rule {
    using keel_rule = void;
    enum kind_t { integer, real, boolean } kind;
    detail::number_limit value;
};

template <class N>
consteval number_rule gt(N bound) {
    return {number_rule::gt, detail::limit_of(bound)};
}
template <class N>
consteval number_rule ge(N bound) {
    return {number_rule::ge, detail::limit_of(bound)};
}
template <class N>
consteval number_rule lt(N bound) {
    return {number_rule::lt, detail::limit_of(bound)};
}
template <class N>
consteval number_rule le(N bound) {
    return {number_rule::le, detail::limit_of(bound)};
}
template <class N>
consteval number_rule multiple_of(N step) {
    if (!(step > 0)) throw "keel: multiple_of needs a step greater than 0";
    return {number_rule::multiple_of, detail::limit_of(step)};
}

consteval size_rule min_length(std::size_t characters) {
    return {size_rule::min_length, characters};
}
consteval size_rule max_length(std::size_t characters) {
    return {size_rule::max_length, characters};
}
consteval size_rule min_items(std::size_t items) {
    return {size_rule::min_items, items};
}
consteval size_rule max_items(std::size_t items) {
    return {size_rule::max_items, items};
}

/// ECMAScript-like syntax as RE2 reads it (no look-around, no back-references): matching takes
/// time linear in the value, whatever a client sends. Not anchored: write ^...$ for the whole.
template <std::size_t N>
consteval text_rule<N> pattern(const char (&regex)[N]) {
    return {text_rule<N>::pattern, regex};
}
/// The value's description in the OpenAPI document (CommonMark).
template <std::size_t N>
consteval text_rule<N> description(const char (&text)[N]) {
    return {text_rule<N>::description, text};
}
/// An example value for the OpenAPI document.
template <std::size_t N>
consteval text_rule<N> example(const char (&text)[N]) {
    return {text_rule<N>::example, text};
}
template <class N>
requires std::is_arithmetic_v<N>
consteval example_rule example(N value) {
    if constexpr (std::is_same_v<N, bool>) {
        return {example_rule::boolean, {true, value ? 1 : 0, value ? 1.0 : 0.0}};
    } else {
        return {std::is_integral_v<N> ? example_rule::integer : example_rule::real, detail::limit_of(value)};
    }
}

}  // namespace constraints

}  // namespace keel
