#pragma once

// The one place that says whether a type is a std::optional or a std::vector of something:
// parameter binding, models and rows all ask here.

#include <optional>
#include <type_traits>
#include <vector>

namespace keel::detail {

template <class T>
struct is_std_optional : std::false_type {};
template <class T>
struct is_std_optional<std::optional<T>> : std::true_type {};

/// T seen as a parameter value: one `element`, maybe optional, or a list of them.
template <class T>
struct value_shape {
    using element = T;
    static constexpr bool optional = false;
    static constexpr bool list = false;
};
template <class E>
struct value_shape<std::optional<E>> {
    using element = E;
    static constexpr bool optional = true;
    static constexpr bool list = false;
};
template <class E, class A>
struct value_shape<std::vector<E, A>> {
    using element = E;
    static constexpr bool optional = false;
    static constexpr bool list = true;
};

}  // namespace keel::detail
