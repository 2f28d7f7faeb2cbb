#pragma once

// What the app needs to resolve dependencies at run time and to check their graph at build
// time. Templates describe each handler's and provider's parameters as nodes; the registry
// (implemented in src/di/) owns services and overrides. Nothing here knows HTTP or SQL.

#include <keel/detail/request_scope.hpp>
#include <keel/detail/type_key.hpp>
#include <keel/detail/value_doc.hpp>
#include <keel/logger.hpp>
#include <keel/request.hpp>
#include <keel/scope.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

namespace keel::detail {

class dependency_registry;

// Everything a binder can reach while it resolves one handler's parameters.
struct call_context {
    request& req;
    request_scope& scope;
    const dependency_registry& registry;
    const logger& log;  // the app's: keel::request_logger binds to it
};

enum class node_kind {
    service,        // `T&` of a type registered with app.provide<T>
    provider,       // keel::depends<provider>
    request_value,  // keel::request&, path<>, query<>, header<>, body<>: exists only in a request
};

// One edge of the dependency graph, as declared by a parameter.
struct dependency_node {
    node_kind kind = node_kind::provider;
    std::uintptr_t key = 0;  // the provider's address, or the type's key
    std::string_view name;   // for messages: the type, the provider, or the parameter's name
    keel::scope declared = keel::scope::request;  // a provider's scope; a service's comes from the registry
    std::vector<dependency_node> (*children)() = nullptr;  // a provider's own parameters
    std::string_view what;                                 // request values: "keel::query", ...
    value_doc doc{};                                       // request values: for the OpenAPI document
    bool awaits = false;  // a provider whose teardown awaits (keel::async_yield): coroutine handlers only
};

// An override: resolves a replacement provider in place of the original (same key, same scope).
struct override_entry {
    std::function<void*(call_context&, keel::scope)> resolve;
    std::vector<dependency_node> (*children)() = nullptr;  // the replacement's parameters
};

// A service registered with app.provide<T>(lifetime, factory), type-erased.
struct service_definition {
    std::uintptr_t key = 0;
    std::string_view name;
    keel::scope lifetime = keel::scope::app;
    std::vector<dependency_node> children;                         // the factory's parameters
    std::function<std::shared_ptr<void>(call_context&)> make_app;  // app scope: makes the one instance
    std::function<void*(call_context&)> resolve;                   // request / transient scope
};

class dependency_registry {
public:
    /// The instance of service `type_key` for this request (app: shared; request: cached;
    /// transient: fresh). Throws std::logic_error naming the type when none is registered.
    virtual void* service(std::uintptr_t type_key, std::string_view type_name, call_context& ctx) const = 0;
    /// The override of provider `key`, or null.
    virtual std::shared_ptr<const override_entry> override_for(std::uintptr_t key) const = 0;

protected:
    ~dependency_registry() = default;
};

/// Throws the std::logic_error for a provider of `type` that returned a null pointer.
[[noreturn]] void throw_null_provider(std::string_view type);

/// A provider's key: its address.
template <class F>
std::uintptr_t provider_key(F* provider) noexcept {
    return reinterpret_cast<std::uintptr_t>(provider);
}

}  // namespace keel::detail
