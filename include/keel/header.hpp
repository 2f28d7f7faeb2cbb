#pragma once

#include <keel/detail/fixed_string.hpp>
#include <keel/detail/param_value.hpp>

namespace keel {

/// A request header, by its field name (case-insensitive): `keel::header<std::string, "x-request-id">`
/// is required, `keel::header<std::optional<std::string>, "if-none-match">` optional, and a
/// third argument gives a default. A missing or unconvertible value is a 422 naming `["header", name]`.
template <class T, detail::fixed_string Name, auto... Default>
class header : public detail::param_value<T> {
    static_assert(sizeof...(Default) <= 1, "keel::header takes at most one default value");

public:
    static constexpr std::string_view name = Name.view();
    using detail::param_value<T>::param_value;
};

}  // namespace keel
