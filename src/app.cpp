#include <keel/access_log.hpp>
#include <keel/app.hpp>
#include <keel/database_error.hpp>
#include <keel/http_error.hpp>
#include <keel/server.hpp>
#include <keel/validation_error.hpp>

#include "route_table.hpp"

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <unordered_map>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace keel {

namespace {

// The app's services, and the door to its overrides, as dependency resolution sees them.
class service_registry final : public detail::dependency_registry {
public:
    explicit service_registry(const keel::dependency_overrides& overrides) : overrides_(overrides) {}
    ~service_registry() { destroy_all(); }

    // App-scoped services go newest first: each may use the ones made before it. They are made
    // again on next use (a restarted app).
    void destroy_all() noexcept {
        std::lock_guard created_lock(created_mutex_);
        for (auto& [key, slot] : services_) slot->instance.store(nullptr);
        while (!created_.empty()) created_.pop_back();
    }

    void add(detail::service_definition definition) {
        const auto key = definition.key;
        const auto name = definition.name;
        auto slot = std::make_unique<service_slot>();
        slot->definition = std::move(definition);
        if (!services_.emplace(key, std::move(slot)).second) {
            throw std::logic_error("keel: " + std::string(name) + " is provided twice");
        }
    }

    const detail::service_definition* find(std::uintptr_t key) const {
        const auto it = services_.find(key);
        return it == services_.end() ? nullptr : &it->second->definition;
    }

    void* service(std::uintptr_t key, std::string_view name, detail::call_context& ctx) const override {
        const auto it = services_.find(key);
        if (it == services_.end()) {
            throw std::logic_error("keel: no provider for " + std::string(name) + "; register one with app.provide<" +
                                   std::string(name) + ">(...)");
        }
        auto& slot = *it->second;
        if (slot.definition.lifetime != scope::app) return slot.definition.resolve(ctx);
        if (void* made = slot.instance.load(std::memory_order_acquire)) return made;
        std::lock_guard lock(slot.mutex);  // one maker per service; another service's factory takes its own lock
        if (void* made = slot.instance.load(std::memory_order_relaxed)) return made;
        auto made = slot.definition.make_app(ctx);
        {
            std::lock_guard created_lock(created_mutex_);
            created_.push_back(made);
        }
        slot.instance.store(made.get(), std::memory_order_release);
        return made.get();
    }

    std::shared_ptr<const detail::override_resolver> override_for(std::uintptr_t key) const override {
        return overrides_.find(key);
    }

private:
    struct service_slot {
        detail::service_definition definition;
        std::mutex mutex;
        std::atomic<void*> instance{nullptr};
    };

    const keel::dependency_overrides& overrides_;
    std::unordered_map<std::uintptr_t, std::unique_ptr<service_slot>> services_;
    mutable std::mutex created_mutex_;
    mutable std::vector<std::shared_ptr<void>> created_;
};

// Walks one route's dependency graph: missing services, cycles, captive dependencies.
class graph_checker {
public:
    graph_checker(const service_registry& registry, std::set<std::string>& problems)
        : registry_(registry), problems_(problems) {}

    void check(const detail::dependency_node& node) {
        const detail::service_definition* service = nullptr;
        if (node.is_service) {
            service = registry_.find(node.key);
            if (!service) {
                problems_.insert("no provider for " + std::string(node.name) + "; register one with app.provide<" +
                                 std::string(node.name) + ">(...)" + needed_by());
                return;
            }
        }
        const scope lifetime = service ? service->lifetime : node.declared;
        for (const auto& step : chain_) {
            if (step.key == node.key) {
                problems_.insert("dependency cycle: " + describe_chain(node.name, lifetime, step.key));
                return;
            }
        }
        if (!chain_.empty()) {
            for (const auto& step : chain_) {
                if (step.lifetime == scope::app && lifetime != scope::app) {
                    problems_.insert("captive dependency: " + describe_chain(node.name, lifetime, step.key) +
                                     ": an app-scoped service must not depend on a " + to_string(lifetime) +
                                     "-scoped one (it would keep the first request's " + std::string(node.name) +
                                     " forever); ask for it in the handler instead");
                    return;
                }
            }
        }
        chain_.push_back({node.key, node.name, lifetime});
        const auto children = service ? service->children : node.children ? node.children() : std::vector<detail::dependency_node>{};
        for (const auto& child : children) check(child);
        chain_.pop_back();
    }

private:
    struct chain_step {
        std::uintptr_t key;
        std::string_view name;
        scope lifetime;
    };

    // "Cache (app) -> get_session (request)", starting at `from`.
    std::string describe_chain(std::string_view last, scope last_lifetime, std::uintptr_t from) const {
        std::string out;
        bool started = false;
        for (const auto& s : chain_) {
            started = started || s.key == from;
            if (!started) continue;
            out += std::string(s.name) + " (" + to_string(s.lifetime) + ") -> ";
        }
        return out + std::string(last) + " (" + to_string(last_lifetime) + ")";
    }

    std::string needed_by() const {
        if (chain_.empty()) return "";
        std::string out = " (needed by ";
        for (std::size_t i = chain_.size(); i-- > 0;) {
            out += chain_[i].name;
            if (i) out += " <- ";
        }
        return out + ")";
    }

    const service_registry& registry_;
    std::set<std::string>& problems_;
    std::vector<chain_step> chain_;
};

}  // namespace

struct app::impl final : detail::middleware_chain {
    explicit impl(const keel::dependency_overrides& overrides) : registry(overrides) {}

    service_registry registry;
    keel::logger log;
    std::vector<std::function<void(detail::call_context&)>> startup_hooks;
    std::vector<std::function<void(detail::call_context&)>> shutdown_hooks;
    std::mutex lifespan_mutex;
    int users = 0;  // servers and test clients running the app: the first starts it, the last stops it
    std::vector<middleware> chain;  // registered middleware, outermost first
    std::vector<exception_mapper> exception_mappers;
    detail::route_table table;
    bool built = false;

    task<response> call(std::size_t index, request& req) const override;
    task<response> run_middleware(std::size_t index, request& req) const;
    task<response> dispatch(request& req) const;
    response error_response(const std::exception_ptr& error, const request& req) const;
};

app::app() : impl_(std::make_unique<impl>(dependency_overrides)) {}
app::~app() = default;

keel::logger& app::logger() noexcept { return impl_->log; }
const keel::logger& app::logger() const noexcept { return impl_->log; }

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
    impl_->chain.push_back(std::move(m));
}

void app::use_outermost(middleware m) {
    require_unbuilt("add middleware");
    impl_->chain.insert(impl_->chain.begin(), std::move(m));
}

void app::add_service(detail::service_definition definition) { impl_->registry.add(std::move(definition)); }

void app::add_lifespan_hook(bool startup, std::function<void(detail::call_context&)> hook) {
    (startup ? impl_->startup_hooks : impl_->shutdown_hooks).push_back(std::move(hook));
}

namespace {
// Runs a lifespan hook outside any request: its dependencies are app services only.
void run_hook(const std::function<void(detail::call_context&)>& hook, const detail::dependency_registry& registry) {
    request outside(method::other, "/");
    detail::request_scope scope;
    detail::call_context ctx{outside, scope, registry};
    std::exception_ptr failure;
    try {
        hook(ctx);
    } catch (...) {
        failure = std::current_exception();
    }
    if (auto outcome = scope.finish(failure)) std::rethrow_exception(outcome);
}
}  // namespace

void app::start() {
    std::lock_guard lock(impl_->lifespan_mutex);
    build();
    if (impl_->users++ > 0) return;
    try {
        for (const auto& hook : impl_->startup_hooks) run_hook(hook, impl_->registry);
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
            run_hook(*it, impl_->registry);
        } catch (const std::exception& e) {
            impl_->log.error(std::string("keel: a shut-down hook failed: ") + e.what());
        } catch (...) {
            impl_->log.error("keel: a shut-down hook failed");
        }
    }
    impl_->registry.destroy_all();
}

void app::add_exception_handler(exception_mapper mapper) {
    require_unbuilt("add an exception handler");
    impl_->exception_mappers.push_back(std::move(mapper));
}

void app::build() {
    if (impl_->built) return;
    detail::route_table table;
    std::string problems;
    for (const auto& spec : routes_.routes()) {
        if (auto problem = table.add(spec); !problem.empty()) problems += "\n  " + problem;
    }
    std::set<std::string> graph_problems;
    graph_checker checker(impl_->registry, graph_problems);
    for (const auto& spec : routes_.routes()) {
        for (const auto& node : spec->handler->dependencies) checker.check(node);
    }
    for (const auto& problem : graph_problems) problems += "\n  " + problem;
    if (!problems.empty()) throw std::logic_error("keel: the app does not fit together:" + problems);
    impl_->table = std::move(table);
    impl_->built = true;
}

bool app::built() const noexcept { return impl_->built; }

task<response> app::handle(request& req) const {
    if (!impl_->built) throw std::logic_error("keel: app::handle() needs a built app (call build())");
    return impl_->call(0, req);
}

task<response> app::impl::call(std::size_t index, request& req) const {
    if (index < chain.size()) return run_middleware(index, req);
    return dispatch(req);
}

task<response> app::impl::run_middleware(std::size_t index, request& req) const {
    std::exception_ptr error;
    try {
        co_return co_await chain[index](req, next(*this, index + 1));
    } catch (...) {
        error = std::current_exception();
    }
    co_return error_response(error, req);
}

task<response> app::impl::dispatch(request& req) const {
    auto match = table.match(req.method(), req.path());
    if (!match.route) {
        if (match.path_matched) {
            response res = response::json({{"detail", "Method Not Allowed"}}, status::method_not_allowed);
            res.headers().set("Allow", std::move(match.allow));
            co_return res;
        }
        co_return response::json({{"detail", "Not Found"}}, status::not_found);
    }
    auto& params = req.path_params();
    params.clear();
    for (std::size_t i = 0; i < match.values.size(); ++i) {
        params.emplace_back(match.route->param_names[i], std::move(match.values[i]));
    }
    const auto& spec = *match.route->spec;
    std::exception_ptr error;
    try {
        co_return co_await spec.handler->invoke(req, detail::route_call{spec.success_status, &registry, spec.conflict_attempts});
    } catch (...) {
        error = std::current_exception();
    }
    co_return error_response(error, req);
}

response app::impl::error_response(const std::exception_ptr& error, const request& req) const {
    try {
        for (const auto& mapper : exception_mappers) {
            if (auto res = mapper(error, req)) return std::move(*res);
        }
    } catch (const std::exception& e) {
        log.error(std::string("exception handler failed for ") + std::string(req.method_name()) + ' ' +
                  std::string(req.path()) + ": " + e.what());
        return response::json({{"detail", "Internal Server Error"}}, status::internal_server_error);
    } catch (...) {
        log.error("exception handler failed with a non-std exception");
        return response::json({{"detail", "Internal Server Error"}}, status::internal_server_error);
    }
    try {
        std::rethrow_exception(error);
    } catch (const http_error& e) {
        response res = response::json({{"detail", e.detail()}}, e.status());
        for (const auto& [name, value] : e.headers()) res.headers().add(name, value);
        return res;
    } catch (const connection_lost& e) {
        log.error(std::string("database unreachable in ") + std::string(req.method_name()) + ' ' +
                  std::string(req.path()) + ": " + e.what());
        response res = response::json({{"detail", "Service Unavailable"}}, status::service_unavailable);
        res.headers().set("Retry-After", "1");
        return res;
    } catch (const validation_error& e) {
        nlohmann::json detail = nlohmann::json::array();
        for (const auto& f : e.errors()) detail.push_back({{"loc", f.loc}, {"msg", f.msg}, {"type", f.type}});
        return response::json({{"detail", std::move(detail)}}, status::unprocessable_entity);
    } catch (const std::exception& e) {
        log.error(std::string("unhandled exception in ") + std::string(req.method_name()) + ' ' +
                  std::string(req.path()) + ": " + e.what());
    } catch (...) {
        log.error(std::string("unhandled non-std exception in ") + std::string(req.method_name()) + ' ' +
                  std::string(req.path()));
    }
    return response::json({{"detail", "Internal Server Error"}}, status::internal_server_error);
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

middleware access_log(const logger& log) {
    return [&log](request& req, next next) -> task<response> {
        const auto start = std::chrono::steady_clock::now();
        response res = co_await next(req);
        if (log.enabled(log_level::info)) {
            const auto micros =
                std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count();
            char timing[32];
            std::snprintf(timing, sizeof timing, "%.3fms", static_cast<double>(micros) / 1000.0);
            std::string line;
            line.reserve(96 + req.target().size());
            line += req.remote_address().empty() ? std::string_view("-") : req.remote_address();
            line += " \"";
            line += req.method_name();
            line += ' ';
            line += req.target();
            line += req.version() == 10 ? " HTTP/1.0\" " : " HTTP/1.1\" ";
            line += std::to_string(to_int(res.status()));
            line += ' ';
            line += std::to_string(res.body().size());
            line += "B ";
            line += timing;
            log.info(line);
        }
        co_return res;
    };
}

}  // namespace keel
