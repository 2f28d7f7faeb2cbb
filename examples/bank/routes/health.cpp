#include "../models.hpp"
#include "../routes.hpp"

#include <keel/response.hpp>
#include <keel/session.hpp>
#include <keel/task.hpp>

#include <chrono>
#include <nlohmann/json.hpp>

namespace bank {

namespace {

// Liveness: the process serves. Runs on the I/O thread (a coroutine that never blocks).
keel::task<health> healthz() {
    co_return health{"ok"};
}

// Readiness: a round trip through the pool. A database that cannot be reached (or a pool with
// no connection free for 2 s) answers 503, so a load balancer stops sending traffic until it is back.
keel::response readyz(keel::session_factory& sessions) {
    try {
        keel::session_options quick;
        quick.pool_timeout = std::chrono::seconds(2);
        auto db = sessions.open(quick);
        db.scalar<int>("SELECT 1");
        db.commit();
        return keel::response::json({{"status", "ok"}});
    } catch (const std::exception&) {
        return keel::response::json({{"status", "unavailable"}}, keel::status::service_unavailable);
    }
}

}  // namespace

keel::router health_router() {
    keel::router health{"", {"health"}};
    health
        .get("/plaintext",
             []() -> keel::task<keel::response> {
                 co_return keel::response::text("Hello, World!", keel::status::ok, "text/plain");
             })
        .media_type("text/plain");
    health.get("/json", []() -> keel::task<hello> { co_return hello{"Hello, World!"}; });
    health.get("/healthz", healthz).summary("Liveness: the process serves");
    health.get("/readyz", readyz)
        .summary("Readiness: the database answers")
        .response<bank::health>(keel::status::ok, "The database answers")
        .response<bank::health>(keel::status::service_unavailable, "The database cannot be reached");
    return health;
}

}  // namespace bank
