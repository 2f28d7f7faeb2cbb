#pragma once

#include <keel/dependency_overrides.hpp>
#include <keel/detail/binders.hpp>
#include <keel/detail/exception_mapper.hpp>
#include <keel/detail/route_methods.hpp>
#include <keel/error_counters.hpp>
#include <keel/health.hpp>
#include <keel/logger.hpp>
#include <keel/metrics.hpp>
#include <keel/middleware.hpp>
#include <keel/openapi_options.hpp>
#include <keel/request.hpp>
#include <keel/response.hpp>
#include <keel/router.hpp>
#include <keel/scope.hpp>
#include <keel/server_options.hpp>
#include <keel/task.hpp>

#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace keel {

/// A service: its routes, middleware, exception handlers and logger.
///
/// Register everything, then serve it with `run()` (or a `keel::server`, or drive it
/// in-process with `keel::testing::client`). The first of those builds the app: the route
/// table is compiled and checked, and the app can no longer be changed.
class app : public detail::route_methods<app> {
public:
    app();
    ~app();
    app(const app&) = delete;
    app& operator=(const app&) = delete;

    /// `get`, `post`, `put`, `patch`, `delete_` and `options` come from route_methods.
    template <class F>
    route add(keel::method m, std::string_view path, F handler) {
        require_unbuilt("add a route");
        return routes_.add(m, path, std::move(handler));
    }
    /// Serves every route of `r` (under its prefix).
    void include(const router& r);

    /// Registers a service of type T, asked for by handlers and providers as `T&`:
    /// ```
    /// app.provide<settings>(keel::scope::app, [] { return settings::from_environment(); });
    /// app.provide<mailer>(keel::scope::app, [](settings& s) { return std::make_unique<mailer>(s.smtp_url);
    /// }); app.provide<request_clock>(keel::scope::request, [] { return request_clock{}; });
    /// ```
    /// The factory's parameters are injected like a handler's. It returns a T, a
    /// `std::unique_ptr<T>` or `std::shared_ptr<T>` (for types that cannot move), or, for request
    /// scope, a `keel::yield<T>`. App-scoped services are made on first use and destroyed with the
    /// app, newest first; they may depend only on other app-scoped services (checked at build).
    template <class T, class F>
    void provide(keel::scope lifetime, F factory) {
        require_unbuilt("register a service");
        using returned = detail::signature_result<F>;
        static_assert(detail::provides<T, returned>,
                      "keel: app.provide<T>(scope, factory): the factory must return T, std::unique_ptr<T>, "
                      "std::shared_ptr<T> or (request scope) keel::yield<T>");
        detail::service_definition def;
        def.key = detail::type_key<T>();
        def.name = detail::type_name<T>();
        def.lifetime = lifetime;
        def.children = detail::dependency_children<F>();
        if (lifetime == keel::scope::app) {
            if constexpr (detail::is_yield<returned>::value) {
                throw std::logic_error(
                    "keel: app.provide<" + std::string(def.name) +
                    ">: an app-scoped factory cannot be a yield provider; return the service "
                    "and clean up in its destructor or an on_shutdown hook");
            } else {
                def.make_app = [factory =
                                    std::move(factory)](detail::call_context& ctx) -> std::shared_ptr<void> {
                    if constexpr (std::is_same_v<returned, std::shared_ptr<T>> ||
                                  std::is_same_v<returned, std::unique_ptr<T>>) {
                        return std::shared_ptr<T>(detail::call_bound(factory, ctx));
                    } else {
                        return std::make_shared<T>(detail::call_bound(factory, ctx));
                    }
                };
            }
        } else {
            def.resolve = [factory = std::move(factory), lifetime](detail::call_context& ctx) -> void* {
                return &detail::resolve_provider<T>(factory, ctx, detail::type_key<T>(), lifetime);
            };
        }
        add_service(std::move(def));
    }

    /// Replacements for providers (see keel::dependency_overrides); may change after build,
    /// and are checked against the app's services as they are set.
    keel::dependency_overrides dependency_overrides;

    /// Adds a middleware around every request; the first added is the outermost.
    void use(middleware m);

    /// Answers exceptions of type E (and types derived from it) thrown by handlers or
    /// dependencies with `handler(const E&, const keel::request&) -> keel::response`.
    /// Handlers are tried in registration order, before keel's own (http_error → its status,
    /// validation_error → 422, anything else → 500).
    template <class E, class F>
    void exception_handler(F handler) {
        add_exception_handler([h = std::move(handler)](const std::exception_ptr& error,
                                                       const request& req) -> std::optional<response> {
            try {
                std::rethrow_exception(error);
            } catch (const E& e) {
                return response(h(e, req));
            } catch (...) {
                return std::nullopt;
            }
        });
    }

    keel::logger& logger() noexcept;
    const keel::logger& logger() const noexcept;

    /// Compiles and checks the route table and the dependency graph; afterwards the app cannot
    /// change. Called by the server and the test client; calling it again does nothing. Throws
    /// std::logic_error naming every problem: two routes for one method and path shape, a
    /// path<"name"> the template lacks, a service with no provider, a dependency cycle, an
    /// app-scoped service, factory or lifespan hook that depends on a request-scoped one or on a
    /// request value (keel::request&, path<>, query<>, header<>, body<>) — each with its chain.
    void build();
    bool built() const noexcept;

    /// Sets the OpenAPI document's info and path (see keel::openapi_options); before build.
    void openapi(openapi_options options);
    /// The app's OpenAPI 3.1 document, as JSON text: every route with its parameters, body,
    /// responses and the schemas of its types. Made once, when the app is built (this builds it).
    const std::string& openapi_document();

    /// Adds a readiness check, run by keel::readiness (keel's `/readyz`, see health_router) in
    /// registration order: `app.readiness_check("database", keel::database_check{});`. Its
    /// parameters are injected app services; it passes by returning (or returning true) and
    /// fails by throwing (its message is the reason given) or returning false.
    template <class F>
    void readiness_check(std::string_view name, F check) {
        require_unbuilt("add a readiness check");
        add_readiness_check(std::string(name), detail::dependency_children<F>(),
                            [check = std::move(check)](detail::call_context& ctx) -> bool {
                                if constexpr (std::is_same_v<detail::signature_result<F>, bool>) {
                                    return detail::call_bound(check, ctx);
                                } else {
                                    detail::call_bound(check, ctx);
                                    return true;
                                }
                            });
    }
    /// Whether a server serving the app has begun its graceful shutdown (readiness is then 503).
    bool draining() const noexcept;

    /// Serves the Prometheus page (keel::metrics) at GET `path` on the app's port, outside the
    /// OpenAPI document; before build. To serve it on a port of its own instead, set
    /// server_options::metrics_port. Either starts keel's per-request metrics.
    void serve_metrics(std::string path = "/metrics");
    /// The app's metrics: keel's and those the service registers (see keel::metrics).
    keel::metrics& metrics() noexcept;

    /// Start-up code (the lifespan), run in registration order by start(); its parameters are
    /// injected app services: `app.on_startup([](keel::engine& db) { db.checkout(); });` makes
    /// the app refuse to start while the database is unreachable.
    template <class F>
    void on_startup(F hook) {
        require_unbuilt("add a start-up hook");
        add_lifespan_hook(
            true, "on_startup hook", detail::dependency_children<F>(),
            [hook = std::move(hook)](detail::call_context& ctx) { detail::call_bound(hook, ctx); });
    }
    /// Shut-down code, run newest first by stop(), before the app-scoped services are destroyed.
    template <class F>
    void on_shutdown(F hook) {
        require_unbuilt("add a shut-down hook");
        add_lifespan_hook(
            false, "on_shutdown hook", detail::dependency_children<F>(),
            [hook = std::move(hook)](detail::call_context& ctx) { detail::call_bound(hook, ctx); });
    }

    /// Builds the app and runs the start-up hooks; called by the server before it listens and
    /// by the test client. A hook that throws stops the start (the exception propagates).
    /// Counted: while one server or client runs the app, another start() only adds a user.
    void start();
    /// The last user's stop() runs the shut-down hooks newest first, then destroys the
    /// app-scoped services newest first (an engine is disposed here). Never throws; errors are
    /// logged.
    void stop() noexcept;

    /// How many requests ended in each kind of failure so far (see keel::error_counters).
    keel::error_counters error_counters() const noexcept;

    /// Runs one request through middleware, routing, the handler and error handling.
    /// The app must be built. The task never throws: every error becomes a response.
    task<response> handle(request& req) const;

    /// Serves on `HOST`:`PORT` (see server_options::from_environment) until SIGINT or SIGTERM,
    /// then shuts down gracefully; a second signal exits at once. Returns the process exit code.
    int run(int argc = 0, const char* const* argv = nullptr);
    int run(server_options options);

private:
    void add_exception_handler(detail::exception_mapper mapper);
    void add_service(detail::service_definition definition);
    void add_lifespan_hook(bool startup, std::string_view name, std::vector<detail::dependency_node> children,
                           std::function<void(detail::call_context&)> hook);
    void add_readiness_check(std::string name, std::vector<detail::dependency_node> children,
                             std::function<bool(detail::call_context&)> check);
    friend class server;  // marks the app draining when it begins a graceful shutdown
    void set_draining(bool on) noexcept;
    std::vector<readiness::check_result> run_readiness_checks() const;
    void check_override(std::uintptr_t key, std::string_view name, const detail::override_entry& entry) const;
    void require_unbuilt(std::string_view what) const;

    struct impl;
    std::unique_ptr<impl> impl_;
    router routes_;
};

}  // namespace keel
