#pragma once

// What the credential providers (bearer, Basic, API keys) share: reading an Authorization field
// of one scheme, and reading the line-per-entry files their stores load. Private to keel.

#include <keel/request.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace keel::detail {

/// The credentials of the request's one Authorization field when its scheme is `scheme` (any
/// case; `scheme` in lower case), followed by a space: the rest, trimmed. Nothing when the field
/// is missing, given twice (whose credentials?), or of another scheme.
std::optional<std::string_view> authorization_credentials(const request& req,
                                                          std::string_view scheme) noexcept;

/// Calls `entry(name, value, line)` for each `name<separator>value` line of `path` (blank lines,
/// `#` comments and a CRLF's '\r' skipped, both sides trimmed); `value` is what follows the first
/// separator. Throws std::invalid_argument naming the file and line of a line without one, or of
/// whatever `entry` refused with std::invalid_argument. `expected` names the form ("id sha256-hex").
void read_entries(const std::string& path, std::string_view what, std::string_view separators,
                  std::string_view expected,
                  const std::function<void(std::string_view name, std::string_view value)>& entry);

}  // namespace keel::detail
