#include <keel/router.hpp>

#include "http/route_table.hpp"

#include <algorithm>
#include <stdexcept>

namespace keel {

namespace {
std::string normalise_prefix(std::string_view prefix) {
    if (prefix.empty()) return {};
    if (prefix[0] != '/') {
        throw std::invalid_argument("keel: router prefix '" + std::string(prefix) + "' must start with '/'");
    }
    while (prefix.size() > 1 && prefix.back() == '/') prefix.remove_suffix(1);
    if (prefix == "/") return {};
    detail::parse_template(prefix);  // same rules as a route template
    return std::string(prefix);
}
}  // namespace

router::router(std::string_view prefix, std::vector<std::string> tags)
    : prefix_(normalise_prefix(prefix)), tags_(std::move(tags)) {}

route router::add_route(keel::method m, std::string_view path, detail::handler_info handler) {
    if (m == keel::method::other) throw std::invalid_argument("keel: routes need a known method");
    std::string full = prefix_;
    if (!(path.empty() && !prefix_.empty())) full += path;
    detail::parse_template(full);  // throws on a malformed template, at registration
    // Binding may block (a session's BEGIN) when the handler takes a service or a provider.
    handler.has_dependencies = std::any_of(
        handler.dependencies.begin(), handler.dependencies.end(),
        [](const detail::dependency_node& n) { return n.kind != detail::node_kind::request_value; });
    auto spec = std::make_shared<detail::route_spec>();
    spec->method = m;
    spec->path = std::move(full);
    spec->handler = std::make_shared<const detail::handler_info>(std::move(handler));
    guard(*spec);
    routes_.push_back(spec);
    route added(std::move(spec));
    for (const auto& tag : tags_) added.tag(tag);
    return added;
}

void router::include(const router& other) {
    other.included_ = true;
    for (const auto& spec : other.routes_) {
        auto copy = std::make_shared<detail::route_spec>(*spec);
        copy->path = prefix_ + spec->path;
        guard(*copy);
        routes_.push_back(copy);
        route included(std::move(copy));
        for (const auto& tag : tags_) included.tag(tag);
    }
}

void router::add_dependency(route_dependency dependency) {
    if (included_)
        throw std::logic_error("keel: router " + (prefix_.empty() ? std::string("/") : prefix_) +
                               ": depend_on after the router was included; the includer's copies of its "
                               "routes would not be guarded. Call depend_on first.");
    for (const auto& spec : routes_) guard(*spec, dependency);
    dependencies_.push_back(dependency);
}

void router::guard(detail::route_spec& spec) const {
    // The first declared runs first: it is the outermost wrapper.
    for (auto it = dependencies_.rbegin(); it != dependencies_.rend(); ++it) guard(spec, *it);
}

void router::guard(detail::route_spec& spec, const route_dependency& dependency) {
    const auto inner = spec.handler;
    detail::handler_info outer;
    outer.on_io_thread = inner->on_io_thread;
    outer.has_dependencies = true;
    outer.path_params = inner->path_params;
    outer.dependencies = inner->dependencies;
    outer.dependencies.insert(outer.dependencies.begin(), dependency.node());
    outer.result_schema = inner->result_schema;
    outer.returns_response = inner->returns_response;
    if (inner->on_io_thread) {
        outer.bind_coroutine =
            decltype(outer.bind_coroutine)([inner, resolve = dependency.resolve](detail::call_context& ctx) {
                resolve(ctx);
                return inner->bind_coroutine(ctx);
            });
    } else {
        outer.call_blocking = decltype(outer.call_blocking)(
            [inner, resolve = dependency.resolve](detail::call_context& ctx, keel::status success) {
                resolve(ctx);
                return inner->call_blocking(ctx, success);
            });
    }
    spec.handler = std::make_shared<const detail::handler_info>(std::move(outer));
}

}  // namespace keel
