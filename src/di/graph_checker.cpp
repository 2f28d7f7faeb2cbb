#include "di/graph_checker.hpp"

namespace keel::detail {

std::string describe_request_value(const dependency_node& node) {
    std::string out(node.what);
    if (!node.name.empty()) out += "<\"" + std::string(node.name) + "\">";
    return out;
}

graph_checker::reach graph_checker::check_root(std::string_view root, keel::scope lifetime,
                                               const std::vector<dependency_node>& children,
                                               std::uintptr_t key, bool can_await) {
    can_await_ = can_await;
    reach_ = {};
    chain_.push_back({key, root, lifetime});
    for (const auto& child : children) check(child);
    chain_.pop_back();
    return reach_;
}

std::vector<dependency_node> graph_checker::children_of(const dependency_node& node) const {
    if (const auto replacement = overrides_.find(node.key); replacement && replacement->children) {
        return replacement->children();  // an override stands in for the provider everywhere
    }
    return node.children ? node.children() : std::vector<dependency_node>{};
}

void graph_checker::check(const dependency_node& node) {
    if (node.kind == node_kind::request_value) {
        for (std::size_t i = 0; i < chain_.size(); ++i) {
            if (chain_[i].lifetime == scope::app) {
                const auto value = describe_request_value(node);
                problems_.insert("captive dependency: " + describe_chain(i, value, scope::request) +
                                 ": something app-scoped must not ask for " + value +
                                 ", which exists only during a request; ask for it in the handler instead");
                return;
            }
        }
        return;
    }
    const service_definition* service = nullptr;
    if (node.kind == node_kind::service) {
        service = services_.find(node.key);
        if (!service) {
            problems_.insert("no provider for " + std::string(node.name) +
                             "; register one with app.provide<" + std::string(node.name) + ">(...)" +
                             needed_by());
            return;
        }
    }
    const scope lifetime = service ? service->lifetime : node.declared;
    if (node.kind == node_kind::provider && node.awaits && !can_await_) {
        problems_.insert(std::string(node.name) +
                         "'s teardown awaits (keel::async_yield), so only a coroutine " +
                         "handler (one returning keel::task) may depend on it" + needed_by() +
                         "; a plain handler takes the blocking keel::get_session instead");
        return;
    }
    if ((node.kind == node_kind::provider && !node.awaits) || (service && lifetime != scope::app))
        reach_.blocking = true;
    if (service) reach_.services = true;
    for (std::size_t i = 0; i < chain_.size(); ++i) {
        if (chain_[i].key != 0 && chain_[i].key == node.key) {
            problems_.insert("dependency cycle: " + describe_chain(i, node.name, lifetime));
            return;
        }
    }
    for (std::size_t i = 0; i < chain_.size(); ++i) {
        if (chain_[i].lifetime == scope::app && lifetime != scope::app) {
            problems_.insert("captive dependency: " + describe_chain(i, node.name, lifetime) +
                             ": an app-scoped service must not depend on a " + to_string(lifetime) +
                             "-scoped one (it would keep the first request's " + std::string(node.name) +
                             " forever); ask for it in the handler instead");
            return;
        }
    }
    chain_.push_back({node.key, node.name, lifetime});
    for (const auto& child : service ? service->children : children_of(node)) check(child);
    chain_.pop_back();
}

// "cache (app) -> get_session (request)", from chain step `from` on.
std::string graph_checker::describe_chain(std::size_t from, std::string_view last,
                                          keel::scope last_lifetime) const {
    std::string out;
    for (std::size_t i = from; i < chain_.size(); ++i) {
        out += std::string(chain_[i].name) + " (" + to_string(chain_[i].lifetime) + ") -> ";
    }
    return out + std::string(last) + " (" + to_string(last_lifetime) + ")";
}

// The direct dependant only: the same gap found from several roots is one problem.
std::string graph_checker::needed_by() const {
    if (chain_.empty()) return "";
    return " (needed by " + std::string(chain_.back().name) + ")";
}

}  // namespace keel::detail
