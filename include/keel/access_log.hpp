#pragma once

#include <keel/logger.hpp>
#include <keel/middleware.hpp>

namespace keel {

/// A middleware that logs one `info` line per request through `log`: the message
/// `"GET /users/7 HTTP/1.1" 200`, the request's fields (request_id, trace_id, span_id, method,
/// route), then status, duration_ms, bytes (the response body's) and remote (the peer).
/// Its duration covers the app's part of the request. A server does not need it: when
/// `server_options::access_log` is on (the default) the server writes the same line itself once
/// the answer is written, timed from the request's first byte's arrival. For apps driven
/// in-process; `log` must outlive the app.
middleware access_log(const logger& log);

}  // namespace keel
