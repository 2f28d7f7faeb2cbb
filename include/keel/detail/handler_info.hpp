#pragma once

// The interface between a handler's template half (keel/detail/handler.hpp: signature analysis
// and binding) and the request pipeline compiled once in src/pipeline/. The pipeline calls
// down into these objects; they never call back up into it.

#include <keel/detail/dependency_graph.hpp>
#include <keel/detail/erased_function.hpp>
#include <keel/response.hpp>
#include <keel/schema.hpp>
#include <keel/status.hpp>
#include <keel/task.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

namespace keel::detail {

/// A coroutine handler with its arguments bound (they live in this object until it is destroyed).
class bound_coroutine {
public:
    virtual ~bound_coroutine() = default;
    /// Runs the handler and turns its result into a response (`success` when it returned a value).
    virtual task<response> call(keel::status success) = 0;
};

/// A flag that may be set while requests read it; copied (with its value) when the handler is.
struct handler_flag {
    handler_flag() = default;
    handler_flag(const handler_flag& other) noexcept : on(other.on.load(std::memory_order_relaxed)) {}
    handler_flag& operator=(const handler_flag&) = delete;
    bool get() const noexcept { return on.load(std::memory_order_relaxed); }
    void set() const noexcept { on.store(true, std::memory_order_relaxed); }

    mutable std::atomic<bool> on{false};
};

/// One registered handler, type-erased.
struct handler_info {
    /// A coroutine handler runs on the I/O thread; any other runs on the worker pool.
    bool on_io_thread = false;
    /// Whether binding makes services or providers; the router works it out from `dependencies`.
    bool has_dependencies = false;
    /// Whether binding may block: providers other than async_yield ones, services made per
    /// request. A coroutine handler's binding and blocking teardowns then run on a worker.
    /// Worked out from the whole graph when the app is built.
    mutable bool blocking_dependencies = true;
    /// Set once a coroutine handler's app-scoped services have all been made: their factories
    /// may block, so until then its binding runs on a worker.
    handler_flag services_made;
    /// Plain handlers: binds every parameter and calls the handler on the calling thread.
    /// Throws validation_error for bad request values, or whatever the handler threw.
    erased_function<response(call_context&, keel::status success)> call_blocking;
    /// Coroutine handlers: binds every parameter (throws like call_blocking).
    erased_function<std::unique_ptr<bound_coroutine>(call_context&)> bind_coroutine;
    /// The names of the path<> parameters as declared; "" for a positional one.
    std::vector<std::string> path_params;
    /// One node per parameter, for the build-time graph check and the OpenAPI document.
    std::vector<dependency_node> dependencies;
    /// The returned value's schema (null for void and keel::response).
    keel::schema_writer result_schema = nullptr;
    /// Whether the handler returns a keel::response, whose content the types do not say.
    bool returns_response = false;
};

}  // namespace keel::detail
