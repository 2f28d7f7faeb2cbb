#pragma once

// Percent-decoding and query-string splitting (RFC 3986, HTML form rules for '+').

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace keel::detail {

/// Decodes %XX escapes (and '+' as space when `plus_is_space`); nullopt on a malformed escape.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

/// Splits "a=1&b=2&a=3" into decoded pairs; malformed escapes are kept as written.
std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query);

}  // namespace keel::detail
