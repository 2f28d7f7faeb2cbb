// The life of one request, top to bottom: middleware, routing, binding in a request scope,
// the handler on the right thread, teardown with the outcome, retries on conflict. What it
// answers when something fails is in error_response.cpp.

#include "pipeline/pipeline.hpp"

#include "db/read_position.hpp"
#include "db/session_origin.hpp"

#include <keel/database_error.hpp>
#include <keel/detail/handler_info.hpp>
#include <keel/detail/request_scope.hpp>
#include <keel/offload.hpp>
#include <keel/retry.hpp>

#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

namespace keel::detail {

namespace {

// After the handler: the teardowns see its outcome, and decide the request's. A teardown's
// error (a failed commit) replaces a success; a swallowed handler error still has no value to
// answer with, so the handler's error stands.
response settle(request_scope& scope, std::optional<response>& answer, const std::exception_ptr& failure) {
    auto outcome = scope.finish(failure);
    if (outcome) std::rethrow_exception(outcome);
    if (failure) std::rethrow_exception(failure);
    return std::move(*answer);
}

}  // namespace

task<response> pipeline::call(std::size_t index, request& req) const {
    if (index < middlewares.size()) return run_middleware(index, req);
    return dispatch(req);
}

task<response> pipeline::run_middleware(std::size_t index, request& req) const {
    std::exception_ptr error;
    try {
        co_return co_await middlewares[index](req, next(*this, index + 1));
    } catch (...) {
        error = std::current_exception();
    }
    co_return error_response(error, req);
}

task<response> pipeline::dispatch(request& req) const {
    auto match = routes.match(req.method(), req.path());
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
    const auto& route = *match.route->spec;
    req.set_route(route.path, match.route->index);
    if (route.timeout.count() > 0) {
        // In-process requests were not started by a server: their time starts now.
        const auto started = req.started() == std::chrono::steady_clock::time_point{}
                                 ? std::chrono::steady_clock::now()
                                 : req.started();
        req.set_deadline(started + route.timeout);
    }
    std::exception_ptr error;
    try {
        auto answer = co_await run_route(route, req);
        hand_out_read_position(req, answer);  // the read-your-writes token, after a commit
        co_return answer;
    } catch (...) {
        error = std::current_exception();
    }
    co_return error_response(error, req);
}

// One try of the handler, on the thread it belongs on. Not a coroutine itself: a route without
// retries costs no frame of its own.
task<response> pipeline::run_route(const route_spec& route, request& req) const {
    if (route.conflict_attempts > 1) return run_with_retries(route, req);
    if (route.handler->on_io_thread) return run_coroutine(route, req);
    return run_offloaded(route, req);
}

task<response> pipeline::run_offloaded(const route_spec& route, request& req) const {
    co_return co_await offload([&] {
        // The request waited in the queue past its deadline: nothing of it ran, try again.
        if (std::chrono::steady_clock::now() >= req.deadline())
            throw server_busy("keel: the request's deadline passed while it waited for a worker");
        return run_blocking(route, req);
    });
}

// Re-runs the whole handler while it fails with a transaction_conflict, when the route asks for
// it. Each try has its own request scope, whose teardowns (the rollback) have run before the
// next try begins; nothing has been written to the client yet.
task<response> pipeline::run_with_retries(const route_spec& route, request& req) const {
    const retry_policy policy{.attempts = route.conflict_attempts};
    for (int attempt = 0;; ++attempt) {
        try {
            if (route.handler->on_io_thread) co_return co_await run_coroutine(route, req);
            co_return co_await run_offloaded(route, req);
        } catch (const transaction_conflict& e) {
            if (attempt + 1 >= policy.attempts) throw;
            auto& retried =
                e.sqlstate() == "40P01" ? counts_.retried_deadlock : counts_.retried_serialization;
            retried.fetch_add(1, std::memory_order_relaxed);
        }
        co_await offload([&] { conflict_backoff(policy, attempt); });
    }
}

// A plain handler may block: it runs, with its dependencies and their teardown, on a worker.
response pipeline::run_blocking(const route_spec& route, request& req) const {
    const working_for working(&req, log_);  // sessions opened here name the request
    request_scope scope;
    call_context ctx{req, scope, registry_, log_};
    std::optional<response> answer;
    std::exception_ptr failure;
    try {
        answer.emplace(route.handler->call_blocking(ctx, route.success_status));
    } catch (...) {
        failure = std::current_exception();
    }
    return settle(scope, answer, failure);
}

// A coroutine handler runs on the I/O thread. Binding it runs its providers, which may block
// (a keel::yield provider's set-up, a service's factory): when its graph holds any, binding
// and those teardowns go to a worker. Providers whose teardown awaits (keel::async_yield, the
// awaited session) need no worker: they are set up and awaited right here.
task<response> pipeline::run_coroutine(const route_spec& route, request& req) const {
    const auto& handler = *route.handler;
    const bool blocking = handler.has_dependencies && handler.blocking_dependencies;
    request_scope scope;
    call_context ctx{req, scope, registry_, log_};
    std::optional<response> answer;
    std::exception_ptr failure;
    try {
        std::unique_ptr<bound_coroutine> bound;
        if (blocking || (handler.has_dependencies && !handler.services_made.get())) {
            // (not ?: : GCC 12 miscompiles co_await in a conditional)
            bound = co_await offload([&] {
                const working_for working(&req, log_);
                return handler.bind_coroutine(ctx);
            });
            handler.services_made.set();  // every app-scoped service it takes exists now
        } else {
            const working_for working(&req, log_);  // sessions opened here name the request
            bound = handler.bind_coroutine(ctx);
        }
        answer.emplace(co_await bound->call(route.success_status));
    } catch (...) {
        failure = std::current_exception();
    }
    // Teardown, newest first: awaited ones here, the others where they may block.
    auto outcome = failure;
    while (scope.has_teardowns()) {
        if (scope.next_is_awaited()) {
            outcome = co_await scope.finish_next_awaited(outcome);
        } else if (blocking) {
            bool ran = false;
            try {
                outcome = co_await offload([&] {
                    ran = true;
                    const working_for working(&req, log_);
                    return scope.finish_blocking(outcome);
                });
            } catch (const server_busy&) {
                // The worker pool is full. An awaited teardown may have committed already, so
                // the request must not end as "nothing happened, retry": tear down here.
            }
            if (!ran) {
                const detail::thread_role may_block(false);
                const working_for working(&req, log_);
                outcome = scope.finish_blocking(outcome);
            }
        } else {
            outcome = scope.finish_blocking(outcome);
        }
    }
    scope.release_values();
    if (outcome) std::rethrow_exception(outcome);
    if (failure) std::rethrow_exception(failure);
    co_return std::move(*answer);
}

error_counters pipeline::counters() const noexcept {
    return {
        .commit_outcome_unknown = counts_.commit_outcome_unknown.load(std::memory_order_relaxed),
        .database_unavailable = counts_.database_unavailable.load(std::memory_order_relaxed),
        .pool_exhausted = counts_.pool_exhausted.load(std::memory_order_relaxed),
        .deadline_exceeded = counts_.deadline_exceeded.load(std::memory_order_relaxed),
        .server_busy = counts_.server_busy.load(std::memory_order_relaxed),
        .unhandled = counts_.unhandled.load(std::memory_order_relaxed),
        .retried_serialization_failure = counts_.retried_serialization.load(std::memory_order_relaxed),
        .retried_deadlock = counts_.retried_deadlock.load(std::memory_order_relaxed),
    };
}

}  // namespace keel::detail
