#pragma once

#include <keel/detail/field_rules.hpp>
#include <keel/detail/fixed_string.hpp>
#include <keel/detail/param_value.hpp>

namespace keel {

/// A request header, by its field name (case-insensitive): `keel::header<std::string, "x-request-id">`
/// is required, `keel::header<std::optional<std::string>, "if-none-match">` optional, and a
/// third argument gives a default; constraints follow (<keel/constraints.hpp>). A missing or
/// unconvertible value, or one that breaks a constraint, is a 422 naming `["header", name]`.
template <class T, detail::fixed_string Name, auto... Default>
class header : public detail::param_value<T> {
    static_assert(sizeof...(Default) - detail::rules_of<Default...>::constraints <= 1,
                  "keel::header takes at most one default value (and any number of constraints)");

public:
    static constexpr std::string_view name = Name.view();
    using detail::param_value<T>::param_value;
};

}  // namespace keel
