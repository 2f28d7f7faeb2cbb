#include <keel/health.hpp>

#include <keel/engine.hpp>
#include <keel/model.hpp>
#include <keel/response.hpp>
#include <keel/session.hpp>
#include <keel/task.hpp>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace keel {

namespace detail {
// The bodies, as the OpenAPI document describes them.
struct health_status {
    std::string status;
    KEEL_MODEL(health_status, status)
};
struct readiness_failure {
    std::string status;                  // "unavailable" or "draining"
    std::optional<std::string> failing;  // the first check that failed
    KEEL_MODEL(readiness_failure, status, failing)
};
}  // namespace detail

readiness::readiness(std::function<std::vector<check_result>()> run_checks, std::function<bool()> draining)
    : run_checks_(std::move(run_checks)), draining_(std::move(draining)) {}

bool readiness::draining() const noexcept {
    return draining_();
}

readiness::report readiness::check() const {
    report out;
    out.draining = draining();
    if (out.draining) return out;  // not ready whatever the checks say: no need to ask them
    out.checks = run_checks_();
    out.ready = std::all_of(out.checks.begin(), out.checks.end(), [](const check_result& c) { return c.ok; });
    return out;
}

void database_check::operator()(engine& db) const {
    session_options quick;
    quick.read_only = true;
    quick.pool_timeout = timeout;
    quick.statement_timeout = timeout;
    session s(db, quick);
    s.scalar<int>("SELECT 1");
    s.commit();
}

router health_router(const health_options& options) {
    router health{"", options.tags};
    health
        .get(options.liveness_path,
             []() -> task<response> {
                 co_return response::json({{"status", "ok"}});
             })
        .summary("Liveness: the process serves")
        .operation_id("healthz")
        .response<detail::health_status>(status::ok, "The process serves");
    health
        .get(options.readiness_path,
             [](const readiness& app_readiness) {
                 const auto report = app_readiness.check();
                 if (report.draining) {
                     return response::json({{"status", "draining"}}, status::service_unavailable);
                 }
                 nlohmann::json checks = nlohmann::json::object();
                 const readiness::check_result* failing = nullptr;
                 for (const auto& c : report.checks) {
                     checks[c.name] = c.detail;
                     if (!c.ok && failing == nullptr) failing = &c;
                 }
                 if (failing == nullptr) return response::json({{"status", "ok"}});
                 return response::json(
                     {{"status", "unavailable"}, {"failing", failing->name}, {"checks", checks}},
                     status::service_unavailable);
             })
        .summary("Readiness: every readiness check passes")
        .operation_id("readyz")
        .response<detail::health_status>(status::ok, "Ready")
        .response<detail::readiness_failure>(status::service_unavailable,
                                             "A readiness check failed (named in \"failing\"; every check's "
                                             "answer in \"checks\"), or the server is shutting down");
    return health;
}

}  // namespace keel
