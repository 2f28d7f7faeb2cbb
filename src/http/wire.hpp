#pragma once

// Writing responses on the wire (HTTP/1.1 status line, fields, body), without Beast: the
// response is small and known in full, so one pass into one buffer is all it takes.

#include <keel/response.hpp>

#include <string>
#include <string_view>

namespace keel::detail {

struct wire_options {
    std::string_view server_header;  // empty: no Server field
    bool keep_alive = true;          // false: "Connection: close"
    bool http10 = false;             // an HTTP/1.0 client that keeps alive needs "Connection: keep-alive"
    bool head = false;               // answer to HEAD: fields as for GET, no body
};

/// Appends the serialised response to `out`. A response whose fields cannot be written
/// safely (CR/LF in a value, a bad name) is replaced by a bare 500; returns false then.
bool write_response(const response& res, const wire_options& options, std::string& out);

/// A minimal error response for requests that never reached the app (400, 413, 431, ...).
response framing_error(status code, std::string_view detail);

/// The current time as an IMF-fixdate ("Fri, 27 Nov 2026 11:44:03 GMT"), cached per thread per second.
std::string_view http_date();

}  // namespace keel::detail
