#pragma once

#include <keel/detail/field_rules.hpp>
#include <keel/detail/fixed_string.hpp>
#include <keel/detail/param_value.hpp>

namespace keel {

/// A path parameter: `app.get("/users/{user_id}", [](keel::path<std::int64_t> user_id) { ... })`.
///
/// Without a name, the n-th `path<>` parameter of a handler binds the n-th `{placeholder}` of
/// its route; with one (`path<std::int64_t, "user_id">`) it binds by name. A value that does not
/// convert is a 422 naming `["path", "user_id"]`. Constraints follow the name
/// (<keel/constraints.hpp>): `path<std::int64_t, "user_id", keel::gt(0)>`. Route and handler are
/// checked against each other when the app is built.
template <class T, detail::fixed_string Name = "", auto... Rules>
class path : public detail::param_value<T> {
    static_assert(detail::rules_of<Rules...>::constraints == sizeof...(Rules),
                  "keel::path takes constraints after its name, not a default value");

public:
    static constexpr std::string_view name = Name.view();
    using detail::param_value<T>::param_value;
};

}  // namespace keel
