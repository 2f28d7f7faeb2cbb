#pragma once

#include <keel/detail/field_rules.hpp>
#include <keel/detail/fixed_string.hpp>
#include <keel/detail/param_value.hpp>

namespace keel {

/// A query parameter, by name: `keel::query<int, "limit">` is required,
/// `keel::query<std::optional<int>, "limit">` is optional, `keel::query<int, "limit", 20>`
/// defaults to 20, and `keel::query<std::vector<int>, "id">` collects every `id=`. Constraints
/// follow (<keel/constraints.hpp>): `keel::query<int, "limit", 20, keel::ge(1), keel::le(100)>`.
/// A value that does not convert, or breaks a constraint, is a 422 naming `["query", "limit"]`.
template <class T, detail::fixed_string Name, auto... Default>
class query : public detail::param_value<T> {
    static_assert(sizeof...(Default) - detail::rules_of<Default...>::constraints <= 1,
                  "keel::query takes at most one default value (and any number of constraints)");

public:
    static constexpr std::string_view name = Name.view();
    using detail::param_value<T>::param_value;
};

}  // namespace keel
