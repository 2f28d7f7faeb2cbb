#pragma once

#include <keel/router.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace keel {

class engine;

/// The app's readiness, as its checks see it now: asked for by keel's `/readyz` (see
/// health_router) and by any handler that takes `keel::readiness&` (an app service every app
/// has). Checks are registered with `app.readiness_check(name, check)`.
class readiness {
public:
    struct check_result {
        std::string name;
        bool ok = false;
        std::string detail;  ///< "ok", or why not: the exception's message, or "not ready"
    };
    struct report {
        bool ready = false;     ///< every check passed and the server is not shutting down
        bool draining = false;  ///< a server serving the app has begun shutting down
        std::vector<check_result> checks;
    };

    /// Runs every check, in registration order (blocking: from a worker, as plain handlers are).
    report check() const;
    /// Whether a server serving the app has begun its graceful shutdown.
    bool draining() const noexcept;

    // Made by keel::app.
    readiness(std::function<std::vector<check_result>()> run_checks, std::function<bool()> draining);

private:
    std::function<std::vector<check_result>()> run_checks_;
    std::function<bool()> draining_;
};

/// A readiness check of the database: `SELECT 1` through the pool, waiting at most `timeout` for
/// a connection and for the answer (`statement_timeout`), so that a probe hears back well within
/// its own timeout. `app.readiness_check("database", keel::database_check{});`
struct database_check {
    std::chrono::milliseconds timeout{500};
    void operator()(engine& db) const;
};

/// Where health_router serves, and how the document groups them.
struct health_options {
    std::string liveness_path = "/healthz";
    std::string readiness_path = "/readyz";
    std::vector<std::string> tags = {"health"};
};

/// Liveness and readiness, included in one line: `app.include(keel::health_router());`.
///
/// - GET /healthz: 200 `{"status": "ok"}` while the process serves (a coroutine: it answers even
///   when every worker is busy).
/// - GET /readyz: runs the app's readiness checks: 200 `{"status": "ok"}` when all pass; 503 `{"status":
/// "unavailable", "failing": "database", "checks":
///   {"database": "<why>"}}` when one fails, naming the first that did; 503 `{"status":
///   "draining"}` once a server serving the app has begun a graceful shutdown (during
///   server_options::shutdown_delay, so that a load balancer stops sending traffic, and after).
router health_router(const health_options& options = {});

}  // namespace keel
