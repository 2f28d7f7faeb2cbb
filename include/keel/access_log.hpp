#pragma once

#include <keel/logger.hpp>
#include <keel/middleware.hpp>

namespace keel {

/// A middleware that logs one `info` line per request through `log`:
/// `127.0.0.1:50312 "GET /users/7 HTTP/1.1" 200 58B 0.412ms 6f1c0a4e-...` (the last field is
/// the request's id).
/// A server runs it around the app when `server_options::access_log` is on (the default),
/// however the app was built (by a test client first, say);
/// `log` must outlive the app.
middleware access_log(const logger& log);

}  // namespace keel
