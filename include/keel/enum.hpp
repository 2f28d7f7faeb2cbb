#pragma once

// C++ enums declared once, for PostgreSQL enums, JSON and request values alike:
// ```
// namespace shop {
// enum class order_state { pending, paid, shipped };
// KEEL_ENUM(order_state, pending, paid, shipped)   // beside the enum, in its namespace
// }
// ```
// Each value travels as its name: the PostgreSQL enum's label
// (`CREATE TYPE order_state AS ENUM ('pending', 'paid', 'shipped')`), the JSON string, the path
// or query text. Any other text is refused: a 422 naming the field and the names it could be
// (`type_error.enum`), or a column mapping error.

#include <keel/codec.hpp>
#include <keel/detail/for_each_macro.hpp>
#include <keel/detail/type_key.hpp>
#include <keel/detail/type_name.hpp>
#include <keel/schema.hpp>

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

namespace keel::detail {

template <class E>
struct enum_label {
    E value;
    std::string_view name;
};

template <class E>
struct enum_labels {
    const enum_label<E>* first;
    std::size_t count;
    const enum_label<E>* begin() const noexcept { return first; }
    const enum_label<E>* end() const noexcept { return first + count; }
};

// KEEL_ENUM names at most as many values as KEEL_DETAIL_FOR_EACH takes.
inline constexpr std::size_t max_enum_names = 64;

template <class E>
std::size_t label_names(enum_labels<E> labels, std::string_view (&names)[max_enum_names]) {
    std::size_t count = 0;
    for (const auto& label : labels) {
        if (count < max_enum_names) names[count++] = label.name;
    }
    return count;
}

// "value is not a valid enumeration member; permitted: 'pending', 'paid', 'shipped'"
parse_failure enum_mismatch(const std::string_view* names, std::size_t count);
[[noreturn]] void throw_unnamed_enum_value(std::string_view type, long long value);

}  // namespace keel::detail

#define KEEL_ENUM(Type, ...)                                                           \
    [[maybe_unused]] inline ::keel::detail::enum_labels<Type> keel_enum_labels(Type) { \
        using enum Type;                                                               \
        static constexpr ::keel::detail::enum_label<Type> keel_labels[] = {            \
            KEEL_DETAIL_FOR_EACH(KEEL_DETAIL_ENUM_LABEL, __VA_ARGS__)};                \
        return {keel_labels, sizeof keel_labels / sizeof keel_labels[0]};              \
    }
#define KEEL_DETAIL_ENUM_LABEL(name) {name, #name},

namespace keel {

template <class E>
requires(std::is_enum_v<E>&& requires(E e) { keel_enum_labels(e); }) struct codec<E> {
    static std::optional<E> parse(std::string_view text, parse_failure& why) {
        const auto labels = keel_enum_labels(E{});
        for (const auto& label : labels) {
            if (label.name == text) return label.value;
        }
        std::string_view names[detail::max_enum_names];
        why = detail::enum_mismatch(names, detail::label_names(labels, names));
        return std::nullopt;
    }
    static void format(std::string& out, E value) {
        for (const auto& label : keel_enum_labels(E{})) {
            if (label.value == value) {
                out += label.name;
                return;
            }
        }
        detail::throw_unnamed_enum_value(detail::type_name<E>(), static_cast<long long>(value));
    }
    // A named schema: a string that is one of its names.
    static void describe(schema& s) { s.component(detail::type_key<E>(), detail::type_name<E>(), &names_of); }

private:
    static void names_of(schema& s) {
        std::string_view names[detail::max_enum_names];
        s.type("string").one_of_names(names, detail::label_names(keel_enum_labels(E{}), names));
    }
};

}  // namespace keel
