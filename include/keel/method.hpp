#pragma once

#include <string_view>

namespace keel {

/// The request methods keel routes. Requests with any other method are answered 405 or 501.
enum class method : unsigned char { get, head, post, put, patch, delete_, options, other };

/// "GET", "DELETE", ...; "OTHER" for method::other.
std::string_view to_string(method m) noexcept;

/// Parses an exact, case-sensitive method token ("GET"); anything unknown is method::other.
method parse_method(std::string_view token) noexcept;

}  // namespace keel
