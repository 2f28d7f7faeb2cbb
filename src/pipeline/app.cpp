#include <keel/app.hpp>
#include <keel/engine.hpp>
#include <keel/health.hpp>
#include <keel/server.hpp>

#include "db/database_metrics.hpp"
#include "db/session_origin.hpp"
#include "di/graph_checker.hpp"
#include "di/service_registry.hpp"
#include "http/request_identity.hpp"
#include "http/route_table.hpp"
#include "metrics/families.hpp"
#include "metrics/http_metrics.hpp"
#include "openapi/docs_page.hpp"
#include "openapi/document.hpp"
#include "pipeline/pipeline.hpp"

#include <keel/metrics.hpp>

#include <prometheus/metric_family.h>

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace keel {

namespace {
struct lifespan_hook {
    std::string_view name;
    std::vector<detail::dependency_node> children;
    std::function<void(detail::call_context&)> run;
};

struct readiness_entry {
    std::string name;
    std::vector<detail::dependency_node> children;
    std::function<bool(detail::call_context&)> run;
};
}  // namespace

struct app::impl {
    explicit impl(const keel::dependency_overrides& overrides)
        : registry(overrides), pipeline(registry, log) {}

    detail::service_registry registry;
    keel::logger log;
    detail::pipeline pipeline;
    std::vector<lifespan_hook> startup_hooks;
    std::vector<lifespan_hook> shutdown_hooks;
    std::vector<readiness_entry> readiness_checks;
    std::atomic<bool> draining{false};
    std::mutex lifespan_mutex;
    openapi_options openapi;
    std::string openapi_text;               // made by build()
    std::vector<detail::served_file> docs;  // the docs page and its files, made by build()
    keel::metrics metrics;
    std::string metrics_path;  // app::serve_metrics; empty: not a route of the app
    int users = 0;  // servers and test clients running the app: the first starts it, the last stops it
    bool built = false;
};

app::app()
    : dependency_overrides([this](std::uintptr_t key, std::string_view name,
                                  const detail::override_entry& entry) { check_override(key, name, entry); }),
      impl_(std::make_unique<impl>(dependency_overrides)) {
    // Every app has its readiness (keel's /readyz asks it): its checks, and whether it drains.
    provide<keel::readiness>(scope::app, [this] {
        return std::make_shared<keel::readiness>([this] { return run_readiness_checks(); },
                                                 [this] { return draining(); });
    });
}

app::~app() = default;

keel::logger& app::logger() noexcept {
    return impl_->log;
}
const keel::logger& app::logger() const noexcept {
    return impl_->log;
}

void app::require_unbuilt(std::string_view what) const {
    if (impl_->built) {
        throw std::logic_error("keel: cannot " + std::string(what) +
                               " after the app was built (it is serving, or a test client uses it)");
    }
}

void app::include(const router& r) {
    require_unbuilt("include a router");
    routes_.include(r);
}

void app::use(middleware m) {
    require_unbuilt("add middleware");
    if (!m) throw std::invalid_argument("keel: app.use() needs a callable middleware");
    impl_->pipeline.middlewares.push_back(std::move(m));
}

void app::add_service(detail::service_definition definition) {
    impl_->registry.add(std::move(definition));
}

void app::add_lifespan_hook(bool startup, std::string_view name,
                            std::vector<detail::dependency_node> children,
                            std::function<void(detail::call_context&)> hook) {
    (startup ? impl_->startup_hooks : impl_->shutdown_hooks)
        .push_back({name, std::move(children), std::move(hook)});
}

void app::add_exception_handler(detail::exception_mapper mapper) {
    require_unbuilt("add an exception handler");
    impl_->pipeline.exception_mappers.push_back(std::move(mapper));
}

// An override set after the build is checked at once; before it, build() checks the graph
// with the overrides in place.
void app::check_override(std::uintptr_t key, std::string_view name,
                         const detail::override_entry& entry) const {
    if (!impl_ || !impl_->built || !entry.children) return;
    detail::graph_checker checker(impl_->registry, dependency_overrides);
    const std::string root = "the replacement provider of " + std::string(name);
    checker.check_root(root, scope::request, entry.children(), key, /*can_await=*/true);
    if (checker.problems().empty()) return;
    std::string problems;
    for (const auto& problem : checker.problems()) problems += "\n  " + problem;
    throw std::logic_error("keel: this override does not fit the app:" + problems);
}

namespace {
// Runs a lifespan hook or a readiness check outside any request: its dependencies are app
// services only (checked at build). Returns what it failed with, if it did.
template <class Body>
std::exception_ptr run_outside_request(const Body& body, const detail::dependency_registry& registry,
                                       const keel::logger& log) {
    request outside(method::other, "/");
    const detail::working_for hook(nullptr, log);  // sessions it opens log through the app's logger
    detail::request_scope scope;
    detail::call_context ctx{outside, scope, registry, log};
    std::exception_ptr failure;
    try {
        body(ctx);
    } catch (...) {
        failure = std::current_exception();
    }
    return scope.finish(failure);
}

void run_hook(const lifespan_hook& hook, const detail::dependency_registry& registry,
              const keel::logger& log) {
    if (auto failure = run_outside_request(hook.run, registry, log)) std::rethrow_exception(failure);
}
}  // namespace

std::vector<readiness::check_result> app::run_readiness_checks() const {
    std::vector<readiness::check_result> results;
    for (const auto& check : impl_->readiness_checks) {
        bool ok = false;
        const auto failure = run_outside_request([&](detail::call_context& ctx) { ok = check.run(ctx); },
                                                 impl_->registry, impl_->log);
        std::string detail = ok ? "ok" : "not ready";
        if (failure) {
            ok = false;
            try {
                std::rethrow_exception(failure);
            } catch (const std::exception& e) {
                detail = e.what();
            } catch (...) {
                detail = "failed";
            }
        }
        results.push_back({check.name, ok, std::move(detail)});
    }
    return results;
}

void app::add_readiness_check(std::string name, std::vector<detail::dependency_node> children,
                              std::function<bool(detail::call_context&)> check) {
    impl_->readiness_checks.push_back({std::move(name), std::move(children), std::move(check)});
}

bool app::draining() const noexcept {
    return impl_->draining.load(std::memory_order_acquire);
}

void app::set_draining(bool on) noexcept {
    impl_->draining.store(on, std::memory_order_release);
}

void app::start() {
    std::lock_guard lock(impl_->lifespan_mutex);
    build();
    if (impl_->users++ > 0) return;
    impl_->draining.store(false, std::memory_order_release);  // a restarted app serves again
    try {
        for (const auto& hook : impl_->startup_hooks) run_hook(hook, impl_->registry, impl_->log);
    } catch (...) {
        impl_->users = 0;
        impl_->registry.destroy_all();  // whatever the hooks made before one failed
        throw;
    }
}

void app::stop() noexcept {
    std::lock_guard lock(impl_->lifespan_mutex);
    if (impl_->users == 0 || --impl_->users > 0) return;
    for (auto it = impl_->shutdown_hooks.rbegin(); it != impl_->shutdown_hooks.rend(); ++it) {
        try {
            run_hook(*it, impl_->registry, impl_->log);
        } catch (const std::exception& e) {
            impl_->log.error(std::string("keel: a shut-down hook failed: ") + e.what());
        } catch (...) {
            impl_->log.error("keel: a shut-down hook failed");
        }
    }
    impl_->registry.destroy_all();
}

namespace {

struct served_headers {
    std::string path;
    std::string content_type;
    std::string cache_control;              // none when empty
    std::string content_security_policy{};  // none when empty
};

// GET <path>, a route keel adds to the app for `what` it serves, outside the document.
void add_keel_route(detail::route_table& table, const std::string& path, detail::handler_info handler,
                    std::string_view what) {
    auto spec = std::make_shared<detail::route_spec>();
    spec->method = method::get;
    spec->path = path;
    spec->doc.in_schema = false;
    spec->handler = std::make_shared<const detail::handler_info>(std::move(handler));
    if (auto problem = table.add(spec); !problem.empty())
        throw std::logic_error("keel: " + path + ", where the app serves " + std::string(what) +
                               ", is taken: " + problem);
}

// A file made at build (the OpenAPI document, the docs page), the same bytes for every request.
// `body` lives as long as the app that serves it.
void add_served_route(detail::route_table& table, served_headers headers, std::string_view body) {
    const auto path = headers.path;
    add_keel_route(table, path, detail::make_handler([headers = std::move(headers), body] {
                       response out(status::ok, std::string(body), headers.content_type);
                       if (!headers.cache_control.empty())
                           out.headers().set("cache-control", headers.cache_control);
                       if (!headers.content_security_policy.empty())
                           out.headers().set("content-security-policy", headers.content_security_policy);
                       return out;
                   }),
                   "its OpenAPI document or docs page");
}

// The Prometheus page, made at each scrape, on the I/O thread (a scrape never waits behind busy
// workers).
void add_metrics_route(detail::route_table& table, const std::string& path, const keel::metrics& m) {
    add_keel_route(table, path, detail::make_handler([&m]() -> task<response> {
                       co_return response(status::ok, m.page(), std::string(detail::metrics_content_type));
                   }),
                   "its metrics");
}

// Each route's method and template label its series; requests that match none are "unmatched".
void label_route_metrics(const detail::route_table& table, keel::metrics& m) {
    std::vector<detail::http_metrics::route_label> labels;
    labels.reserve(table.specs().size());
    for (const auto& spec : table.specs()) labels.push_back({spec->method, spec->path});
    detail::http_metrics_of(m).set_routes(std::move(labels));
}

void collect_error_counters(const keel::error_counters& counts, std::vector<prometheus::MetricFamily>& out) {
    const auto n = [](std::uint64_t count) { return static_cast<double>(count); };
    detail::add_by_label(out, "keel_http_request_failures_total",
                         "Requests that failed in the app, by kind (see keel::error_counters)",
                         prometheus::MetricType::Counter, "kind",
                         {{"commit_outcome_unknown", n(counts.commit_outcome_unknown)},
                          {"database_unavailable", n(counts.database_unavailable)},
                          {"pool_exhausted", n(counts.pool_exhausted)},
                          {"deadline_exceeded", n(counts.deadline_exceeded)},
                          {"server_busy", n(counts.server_busy)},
                          {"unhandled", n(counts.unhandled)}});
    detail::add_by_label(
        out, "keel_db_transaction_retries_total",
        "Handlers run again by retry_on_conflict, by the SQLSTATE that caused it",
        prometheus::MetricType::Counter, "sqlstate",
        {{"40001", n(counts.retried_serialization_failure)}, {"40P01", n(counts.retried_deadlock)}});
}

}  // namespace

void app::build() {
    if (impl_->built) return;
    detail::route_table table;
    std::string problems;
    for (const auto& spec : routes_.routes()) {
        if (auto problem = table.add(spec); !problem.empty()) problems += "\n  " + problem;
    }
    // Everything that injects is a root of the graph: routes, services, lifespan hooks.
    detail::graph_checker checker(impl_->registry, dependency_overrides);
    for (const auto& spec : routes_.routes()) {
        const auto& handler = *spec->handler;
        const auto found = checker.check_root(std::string(to_string(spec->method)) + ' ' + spec->path,
                                              scope::request, handler.dependencies, 0, handler.on_io_thread);
        handler.blocking_dependencies = found.blocking;
        if (!found.services) handler.services_made.set();  // none to make: no first trip to a worker
    }
    for (const auto* service : impl_->registry.all()) {
        checker.check_root(service->name, service->lifetime, service->children, service->key);
    }
    for (const auto* hooks : {&impl_->startup_hooks, &impl_->shutdown_hooks}) {
        for (const auto& hook : *hooks) checker.check_root(hook.name, scope::app, hook.children);
    }
    for (const auto& check : impl_->readiness_checks) {
        checker.check_root("readiness check \"" + check.name + "\"", scope::app, check.children);
    }
    for (const auto& problem : checker.problems()) problems += "\n  " + problem;
    if (!problems.empty()) throw std::logic_error("keel: the app does not fit together:" + problems);
    impl_->openapi_text = detail::openapi_document(routes_.routes(), impl_->registry, impl_->openapi);
    impl_->docs = detail::docs_files(impl_->openapi);
    if (!impl_->openapi.path.empty())
        add_served_route(table, {impl_->openapi.path, "application/json", {}}, impl_->openapi_text);
    for (const auto& file : impl_->docs)
        add_served_route(table,
                         {file.path, file.content_type, file.cache_control, file.content_security_policy},
                         file.body());
    if (!impl_->metrics_path.empty()) add_metrics_route(table, impl_->metrics_path, impl_->metrics);
    label_route_metrics(table, impl_->metrics);
    impl_->metrics.add_collector([this](std::vector<prometheus::MetricFamily>& out) {
        collect_error_counters(impl_->pipeline.counters(), out);
        // The app's engine, once made (a scrape never makes one), held while it is read.
        if (const auto made = impl_->registry.existing(detail::type_key<keel::engine>())) {
            detail::collect_database_metrics(*static_cast<const keel::engine*>(made.get()), out);
        }
    });
    impl_->pipeline.routes = std::move(table);
    impl_->built = true;
}

void app::serve_metrics(std::string path) {
    require_unbuilt("serve the metrics");
    detail::parse_template(path);  // throws when malformed
    impl_->metrics_path = std::move(path);
    impl_->metrics.start_recording();
}

keel::metrics& app::metrics() noexcept {
    return impl_->metrics;
}

void app::openapi(openapi_options options) {
    require_unbuilt("change the OpenAPI options");
    for (const auto* path : {&options.path, &options.docs_path}) {
        if (!path->empty()) detail::parse_template(*path);  // throws when malformed
    }
    impl_->openapi = std::move(options);
}

const std::string& app::openapi_document() {
    build();
    return impl_->openapi_text;
}

bool app::built() const noexcept {
    return impl_->built;
}

error_counters app::error_counters() const noexcept {
    return impl_->pipeline.counters();
}

task<response> app::handle(request& req) const {
    if (!impl_->built) throw std::logic_error("keel: app::handle() needs a built app (call build())");
    detail::assign_request_identity(req);
    return impl_->pipeline.handle(req);
}

int app::run(int argc, const char* const* argv) {
    server_options options;
    try {
        options = server_options::from_environment(argc, argv);
    } catch (const std::exception& e) {
        impl_->log.error(e.what());
        return 2;
    }
    return run(std::move(options));
}

int app::run(server_options options) {
    options.handle_signals = true;
    try {
        server s(*this, std::move(options));  // builds and starts the app, or throws why not
        s.run();                              // returns after the drain and the shut-down hooks
    } catch (const std::exception& e) {
        impl_->log.error(std::string("keel: the app could not start: ") + e.what());
        return 1;
    }
    return 0;
}

}  // namespace keel
