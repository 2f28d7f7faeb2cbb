#pragma once

// The access log's line for one request, written by the server once the answer's last byte is
// out (and by the keel::access_log middleware, which sees the app's part only).

#include <keel/logger.hpp>
#include <keel/request.hpp>

#include <chrono>
#include <cstddef>

namespace keel::detail {

/// An `info` line `"GET /users/7 HTTP/1.1" 200` with the request's context fields, then
/// status, duration_ms, bytes (the response body's) and remote (the peer's address).
void log_access(const logger& log, const request& req, unsigned status, std::size_t body_bytes,
                std::chrono::nanoseconds took);

}  // namespace keel::detail
