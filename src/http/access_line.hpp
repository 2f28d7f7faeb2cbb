#pragma once

// The access log's line for one request, written by the server once the answer's last byte is
// out (and by the keel::access_log middleware, which sees the app's part only).

#include <keel/logger.hpp>
#include <keel/request.hpp>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace keel::detail {

/// An `info` line `"GET /users/7 HTTP/1.1" 200` with the request's context fields, then
/// status, duration_ms, bytes (the response body's) and remote (the peer's address; behind a
/// trusted proxy, the client it names, and proxy the peer's). Query parameters that carry
/// credentials (access_token, api_key, token, password, ...) are logged as `REDACTED`.
void log_access(const logger& log, const request& req, unsigned status, std::size_t body_bytes,
                std::chrono::nanoseconds took);

/// `target` with the values of its credential-bearing query parameters replaced by REDACTED.
void append_redacted_target(std::string& out, std::string_view target);

}  // namespace keel::detail
