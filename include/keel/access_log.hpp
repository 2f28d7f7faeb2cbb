#pragma once

#include <keel/logger.hpp>
#include <keel/middleware.hpp>

namespace keel {

/// A middleware that logs one `info` line per request through `log`:
/// `127.0.0.1:50312 "GET /users/7 HTTP/1.1" 200 58B 0.412ms 6f1c0a4e-... trace=4bf9... span=00f0...`
/// (the request's id, then its trace and span ids).
/// Its duration covers the app's part of the request. A server does not need it: when
/// `server_options::access_log` is on (the default) the server writes the same line itself once
/// the answer is written, timed from the request's first byte's arrival. For apps driven
/// in-process; `log` must outlive the app.
middleware access_log(const logger& log);

}  // namespace keel
