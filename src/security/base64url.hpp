#pragma once

// Base64url without padding (RFC 4648 §5), as JOSE writes it (RFC 7515 §2), decoded strictly:
// another alphabet, padding, whitespace or stray bits in the last character are refused, so one
// token has one spelling.

#include <optional>
#include <string>
#include <string_view>

namespace keel::detail {

std::optional<std::string> base64url_decode(std::string_view text);

// Base64 (RFC 4648 §4), as HTTP Basic writes it: the standard alphabet, `=` padding to a whole
// quantum, decoded as strictly.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace keel::detail
