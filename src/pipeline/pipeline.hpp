#pragma once

// The request pipeline: middleware, routing, binding, the request scope, the handler, teardown
// and the mapping of errors to responses. The one place where database outcomes become HTTP
// statuses. Private to keel; an app owns one.

#include <keel/detail/dependency_graph.hpp>
#include <keel/detail/exception_mapper.hpp>
#include <keel/error_counters.hpp>
#include <keel/logger.hpp>
#include <keel/middleware.hpp>
#include <keel/request.hpp>
#include <keel/response.hpp>
#include <keel/route.hpp>
#include <keel/task.hpp>

#include "http/route_table.hpp"

#include <atomic>
#include <cstddef>
#include <exception>
#include <string_view>
#include <vector>

namespace keel::detail {

class pipeline final : public middleware_chain {
public:
    pipeline(const dependency_registry& registry, const logger& log) : registry_(registry), log_(log) {}

    /// Set while the app is built; read-only afterwards.
    std::vector<keel::middleware> middlewares;  // outermost first
    std::vector<exception_mapper> exception_mappers;
    route_table routes;

    /// Runs one request through everything; never throws (every error becomes a response).
    task<response> handle(request& req) const { return call(0, req); }
    /// The middleware at `index`, or the route once the middleware is exhausted.
    task<response> call(std::size_t index, request& req) const override;

    error_counters counters() const noexcept;

private:
    task<response> run_middleware(std::size_t index, request& req) const;
    task<response> dispatch(request& req) const;
    task<response> run_route(const route_spec& route, request& req) const;
    task<response> run_with_retries(const route_spec& route, request& req) const;
    task<response> run_offloaded(const route_spec& route, request& req) const;
    task<response> run_coroutine(const route_spec& route, request& req) const;
    response run_blocking(const route_spec& route, request& req) const;

    /// The answer for an error that escaped a handler, a dependency or a middleware; what it
    /// logs names the request (and its route, once routed).
    response error_response(const std::exception_ptr& error, const request& req) const;

    struct counting {
        std::atomic<std::uint64_t> commit_outcome_unknown{0};
        std::atomic<std::uint64_t> database_unavailable{0};
        std::atomic<std::uint64_t> pool_exhausted{0};
        std::atomic<std::uint64_t> deadline_exceeded{0};
        std::atomic<std::uint64_t> server_busy{0};
        std::atomic<std::uint64_t> unhandled{0};
        std::atomic<std::uint64_t> retried_serialization{0};
        std::atomic<std::uint64_t> retried_deadlock{0};
    };

    const dependency_registry& registry_;
    const logger& log_;
    mutable counting counts_;
};

}  // namespace keel::detail
