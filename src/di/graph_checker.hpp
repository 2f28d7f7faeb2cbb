#pragma once

// The build-time check of the dependency graph: services with no provider, cycles, and
// captive dependencies (something longer-lived asking for something shorter-lived, or for a
// value that exists only during a request). Private to keel.

#include <keel/dependency_overrides.hpp>
#include <keel/detail/dependency_graph.hpp>

#include "di/service_registry.hpp"

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace keel::detail {

class graph_checker {
public:
    graph_checker(const service_registry& services, const keel::dependency_overrides& overrides)
        : services_(services), overrides_(overrides) {}

    /// What a root's graph holds, for the pipeline's choice of thread.
    struct reach {
        /// A provider that may block (any but an async_yield one), or a service made per
        /// request or per injection: binding may block.
        bool blocking = false;
        /// A service, whose factory may block the first time it is made.
        bool services = false;
    };

    /// Checks what `root` (a route's handler, a lifespan hook, a service's factory, an
    /// override) asks for, as something of `lifetime`. `key` is the root's own key, if it
    /// has one, so that asking for itself is a cycle. `can_await`: the root is a coroutine
    /// handler, which alone may depend on a provider whose teardown awaits.
    reach check_root(std::string_view root, keel::scope lifetime,
                     const std::vector<dependency_node>& children, std::uintptr_t key = 0,
                     bool can_await = false);

    /// Every problem found so far, one sentence each, sorted and without repeats.
    const std::set<std::string>& problems() const noexcept { return problems_; }

private:
    struct step {
        std::uintptr_t key;
        std::string_view name;
        keel::scope lifetime;
    };

    void check(const dependency_node& node);
    std::vector<dependency_node> children_of(const dependency_node& node) const;
    std::string describe_chain(std::size_t from, std::string_view last, keel::scope last_lifetime) const;
    std::string needed_by() const;

    const service_registry& services_;
    const keel::dependency_overrides& overrides_;
    std::set<std::string> problems_;
    std::vector<step> chain_;
    bool can_await_ = false;  // the current root's
    reach reach_;             // the current root's
};

/// How a request value appears in messages: `keel::query<"limit">`, `keel::request&`.
std::string describe_request_value(const dependency_node& node);

}  // namespace keel::detail
