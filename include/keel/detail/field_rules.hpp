#pragma once

// The constraints of one field or parameter (<keel/constraints.hpp>), merged into one constant
// per declaration, and the binder's check of a value against them. The checks themselves are
// compiled once (src/pipeline/constraints.cpp); what is instantiated per declaration is the
// dispatch on the value's type and, for a pattern, its compiled form, made on first use.

#include <keel/constraints.hpp>
#include <keel/detail/value_shape.hpp>
#include <keel/validation_error.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace keel::detail {

template <class R>
concept constraint = requires {
    typename std::remove_cvref_t<R>::keel_rule;
};

enum rule_kind : unsigned { number_rules = 1U, length_rules = 2U, item_rules = 4U, pattern_rules = 8U };

struct optional_limit {
    bool set = false;
    number_limit limit{};
};

enum class example_kind { none, integer, real, boolean, text };

struct field_rules {
    unsigned kinds = 0;  // rule_kind bits: which values the rules can apply to
    optional_limit gt{}, ge{}, lt{}, le{}, multiple_of{};
    std::size_t min_length = 0, max_length = SIZE_MAX;  // 0 and SIZE_MAX: no bound
    std::size_t min_items = 0, max_items = SIZE_MAX;
    std::string_view pattern{};
    std::string_view description{};
    example_kind example = example_kind::none;
    number_limit example_number{};
    std::string_view example_text{};
};

constexpr void add_rule(field_rules& rules, const number_rule& rule) {
    rules.kinds |= number_rules;
    const optional_limit limit{true, rule.limit};
    switch (rule.op) {
        case number_rule::gt:
            rules.gt = limit;
            break;
        case number_rule::ge:
            rules.ge = limit;
            break;
        case number_rule::lt:
            rules.lt = limit;
            break;
        case number_rule::le:
            rules.le = limit;
            break;
        case number_rule::multiple_of:
            rules.multiple_of = limit;
            break;
    }
}

constexpr void add_rule(field_rules& rules, const size_rule& rule) {
    switch (rule.op) {
        case size_rule::min_length:
            rules.min_length = rule.size;
            break;
        case size_rule::max_length:
            rules.max_length = rule.size;
            break;
        case size_rule::min_items:
            rules.min_items = rule.size;
            break;
        case size_rule::max_items:
            rules.max_items = rule.size;
            break;
    }
    const bool length = rule.op == size_rule::min_length || rule.op == size_rule::max_length;
    rules.kinds |= length ? length_rules : item_rules;
}

template <std::size_t N>
constexpr void add_rule(field_rules& rules, const text_rule<N>& rule) {
    const std::string_view text(rule.text.chars, N - 1);
    switch (rule.op) {
        case text_rule<N>::pattern:
            rules.kinds |= pattern_rules;
            rules.pattern = text;
            break;
        case text_rule<N>::description:
            rules.description = text;
            break;
        case text_rule<N>::example:
            rules.example = example_kind::text;
            rules.example_text = text;
            break;
    }
}

constexpr void add_rule(field_rules& rules, const example_rule& rule) {
    constexpr example_kind kinds[] = {example_kind::integer, example_kind::real, example_kind::boolean};
    rules.example = kinds[rule.kind];
    rules.example_number = rule.value;
}

template <class V>
constexpr void add_rule(field_rules&, const V&) {}  // a parameter's default value, not a constraint

template <auto... X>
struct rules_of {
    static constexpr std::size_t constraints = (std::size_t{0} + ... + (constraint<decltype(X)> ? 1 : 0));
    static constexpr field_rules value = [] {
        field_rules rules;
        (add_rule(rules, X), ...);
        if (rules.min_length > rules.max_length || rules.min_items > rules.max_items)
            throw "keel: a minimum length or item count above the maximum";
        return rules;
    }();
};

// The merged rules of a declaration, or none.
template <auto... X>
constexpr const field_rules* rules_pointer() {
    if constexpr (rules_of<X...>::constraints == 0) {
        return nullptr;
    } else {
        return &rules_of<X...>::value;
    }
}

// A pattern, compiled once (RE2): made on first use, kept for the life of the program. A pattern
// RE2 cannot read throws std::invalid_argument naming it.
class compiled_pattern;
const compiled_pattern& compile_pattern(std::string_view regex);

// The checks, each adding one field_error per rule the value breaks.
void check_signed(std::int64_t value, const field_rules& rules, const std::vector<std::string>& loc,
                  std::vector<field_error>& errors);
void check_unsigned(std::uint64_t value, const field_rules& rules, const std::vector<std::string>& loc,
                    std::vector<field_error>& errors);
void check_real(double value, const field_rules& rules, const std::vector<std::string>& loc,
                std::vector<field_error>& errors);
void check_string(std::string_view value, const field_rules& rules, const compiled_pattern* pattern,
                  const std::vector<std::string>& loc, std::vector<field_error>& errors);
void check_items(std::size_t count, const field_rules& rules, const std::vector<std::string>& loc,
                 std::vector<field_error>& errors);

template <class T>
using unwrapped_optional = std::conditional_t<value_shape<T>::optional, typename value_shape<T>::element, T>;

template <class V>
concept constrainable_number = std::is_arithmetic_v<V> && !std::is_same_v<V, bool>;
template <class V>
concept constrainable_text = std::is_convertible_v<const V&, std::string_view>;

template <class T>
void check_value(const T& value, const field_rules& rules, const compiled_pattern* pattern,
                 const std::vector<std::string>& loc, std::vector<field_error>& errors) {
    if constexpr (value_shape<T>::optional) {
        if (value) check_value(*value, rules, pattern, loc, errors);
    } else if constexpr (value_shape<T>::list) {
        check_items(value.size(), rules, loc, errors);
    } else if constexpr (constrainable_number<T> && std::is_floating_point_v<T>) {
        check_real(static_cast<double>(value), rules, loc, errors);
    } else if constexpr (constrainable_number<T> && std::is_signed_v<T>) {
        check_signed(value, rules, loc, errors);
    } else if constexpr (constrainable_number<T>) {
        check_unsigned(value, rules, loc, errors);
    } else if constexpr (constrainable_text<T>) {
        check_string(value, rules, pattern, loc, errors);
    }
}

/// Checks a bound value against the constraints among X (a parameter's template arguments, or a
/// KEEL_MODEL field's); X may also hold a parameter's default, which is not checked.
template <class T, auto... X>
void check_rules(const T& value, const std::vector<std::string>& loc, std::vector<field_error>& errors) {
    constexpr const field_rules& rules = rules_of<X...>::value;
    using V = unwrapped_optional<T>;
    static_assert(!(rules.kinds & number_rules) || constrainable_number<V>,
                  "keel: gt, ge, lt, le and multiple_of apply to integer and floating-point values");
    static_assert(!(rules.kinds & (length_rules | pattern_rules)) || constrainable_text<V>,
                  "keel: min_length, max_length and pattern apply to strings");
    static_assert(!(rules.kinds & item_rules) || value_shape<V>::list,
                  "keel: min_items and max_items apply to lists (std::vector)");
    if constexpr (rules.kinds == 0) {
        return;  // a description or an example only
    } else if constexpr ((rules.kinds & pattern_rules) != 0) {
        static const compiled_pattern& pattern = compile_pattern(rules.pattern);
        check_value(value, rules, &pattern, loc, errors);
    } else {
        check_value(value, rules, nullptr, loc, errors);
    }
}

}  // namespace keel::detail
