#pragma once

#include <keel/detail/handler.hpp>
#include <keel/detail/route_methods.hpp>
#include <keel/method.hpp>
#include <keel/route.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace keel {

/// A group of routes under a common prefix, included into an app (or another router):
/// ```
/// keel::router users{"/users"};
/// users.get("/{user_id}", get_user);
/// app.include(users);   // serves GET /users/{user_id}
/// ```
/// Path templates are `/`-separated; a segment `{name}` is a parameter matching one
/// non-empty segment. Static segments win over parameters. A malformed template throws
/// std::invalid_argument at registration; conflicting routes are reported when the app is built.
/// Configure a router's routes before including it: include() copies them.
class router : public detail::route_methods<router> {
public:
    /// `tags` group the router's routes in the OpenAPI document (`keel::router users{"/users",
    /// {"users"}}`); including a router into another adds the includer's tags too.
    explicit router(std::string_view prefix = {}, std::vector<std::string> tags = {});

    /// `get`, `post`, `put`, `patch`, `delete_` and `options` come from route_methods.
    /// Any method; `HEAD` is answered from `GET` routes unless a `HEAD` route is added.
    template <class F>
    route add(keel::method m, std::string_view path, F handler) {
        return add_route(m, path, detail::make_handler(std::move(handler)));
    }

    /// Adds every route of `other`, under this router's prefix followed by other's.
    void include(const router& other);

    /// Makes every route of this router depend on `Provider` — those added before and after,
    /// and those included into it — as if each handler took a `keel::depends<Provider>` it does
    /// not use: it runs (request scope, shared with the handler's own) before the handler's
    /// parameters, and an error it throws answers the request. Guards a whole router:
    /// `admin.depend_on<keel::require_scopes<"admin">>();`. The outermost router's run first.
    /// Throws std::logic_error once the router has been included somewhere: the copies its
    /// includer took would stay unguarded.
    template <auto Provider>
    router& depend_on() {
        using binder = detail::binder<depends<Provider>>;
        add_dependency({&binder::node, [](detail::call_context& ctx) {
                            typename binder::slot value{};
                            std::vector<keel::field_error> unused;
                            binder::bind(value, ctx, 0, unused);
                        }});
        return *this;
    }

    const std::string& prefix() const noexcept { return prefix_; }
    const std::vector<std::shared_ptr<detail::route_spec>>& routes() const noexcept { return routes_; }

private:
    // A dependency of every route: its graph node, and how to resolve it into the request scope.
    struct route_dependency {
        detail::dependency_node (*node)();
        void (*resolve)(detail::call_context&);
    };

    route add_route(keel::method m, std::string_view path, detail::handler_info handler);
    void add_dependency(route_dependency dependency);
    // Wraps the route's handler so that the router's dependencies run first.
    void guard(detail::route_spec& spec) const;
    static void guard(detail::route_spec& spec, const route_dependency& dependency);

    std::vector<route_dependency> dependencies_;
    mutable bool included_ = false;  // include() copied its routes: later dependencies would miss them

    std::string prefix_;
    std::vector<std::string> tags_;
    std::vector<std::shared_ptr<detail::route_spec>> routes_;
};

}  // namespace keel
