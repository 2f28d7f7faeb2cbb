#pragma once

// The access log's line for one request, written by the server once the answer's last byte is
// out (and by the keel::access_log middleware, which sees the app's part only).

#include <keel/request.hpp>

#include <chrono>
#include <cstddef>
#include <string>

namespace keel::detail {

/// `127.0.0.1:50312 "GET /users/7 HTTP/1.1" 200 58B 0.412ms <request id> trace=<id> span=<id>`
std::string access_line(const request& req, unsigned status, std::size_t body_bytes,
                        std::chrono::nanoseconds took);

}  // namespace keel::detail
