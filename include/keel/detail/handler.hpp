#pragma once

// Turns a handler's signature into a type-erased route handler: binds each parameter from the
// request, collects every binding failure into one 422, calls the handler (on the worker pool
// unless it is a coroutine), and converts what it returns into a response.

#include <keel/body.hpp>
#include <keel/depends.hpp>
#include <keel/retry.hpp>
#include <keel/detail/dependency_graph.hpp>
#include <keel/detail/request_scope.hpp>
#include <keel/detail/type_name.hpp>
#include <keel/header.hpp>
#include <keel/model.hpp>
#include <keel/offload.hpp>
#include <keel/param_parser.hpp>
#include <keel/path.hpp>
#include <keel/query.hpp>
#include <keel/request.hpp>
#include <keel/response.hpp>
#include <keel/status.hpp>
#include <keel/task.hpp>
#include <keel/validation_error.hpp>

#include <array>
#include <cstddef>
#include <functional>
#include <memory>
#include <stdexcept>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace keel::detail {

// ---------------------------------------------------------------------------------- signatures

template <class... A>
struct type_list {};

template <class F>
struct callable_traits;

template <class R, class... A>
struct callable_traits<R(A...)> {
    using result = R;
    using args = type_list<A...>;
};
template <class R, class... A>
struct callable_traits<R (*)(A...)> : callable_traits<R(A...)> {};
template <class R, class... A>
struct callable_traits<R (*)(A...) noexcept> : callable_traits<R(A...)> {};
template <class R, class... A>
struct callable_traits<R(A...) noexcept> : callable_traits<R(A...)> {};
template <class C, class R, class... A>
struct callable_traits<R (C::*)(A...)> : callable_traits<R(A...)> {};
template <class C, class R, class... A>
struct callable_traits<R (C::*)(A...) const> : callable_traits<R(A...)> {};
template <class C, class R, class... A>
struct callable_traits<R (C::*)(A...) noexcept> : callable_traits<R(A...)> {};
template <class C, class R, class... A>
struct callable_traits<R (C::*)(A...) const noexcept> : callable_traits<R(A...)> {};

template <class F>
concept has_call_operator = requires { &F::operator(); };

template <class F>
struct handler_signature {
    static_assert(std::is_function_v<std::remove_pointer_t<F>>,
                  "keel: a handler must have one fixed signature: no `auto` parameters, no overloads");
    using traits = callable_traits<std::remove_pointer_t<F>>;
};
template <class F>
    requires has_call_operator<F>
struct handler_signature<F> {
    using traits = callable_traits<decltype(&F::operator())>;
};

// ---------------------------------------------------------------------------------- values

template <class T>
struct value_shape {
    using element = T;
    static constexpr bool optional = false;
    static constexpr bool list = false;
};
template <class E>
struct value_shape<std::optional<E>> {
    using element = E;
    static constexpr bool optional = true;
    static constexpr bool list = false;
};
template <class E, class A>
struct value_shape<std::vector<E, A>> {
    using element = E;
    static constexpr bool optional = false;
    static constexpr bool list = true;
};

template <class T, auto Default>
T make_default() {
    if constexpr (requires { Default.view(); }) {
        return T(std::string(Default.view()));
    } else {
        return T(Default);
    }
}

template <class E>
std::optional<E> convert_value(std::string_view text, const std::vector<std::string>& loc,
                               std::vector<field_error>& errors) {
    parse_failure why;
    auto value = param_parser<E>::parse(text, why);
    if (!value) errors.push_back({loc, std::move(why.msg), std::move(why.type)});
    return value;
}

void add_missing(std::vector<std::string> loc, std::vector<field_error>& errors);

// Converts the values found for one parameter (0, 1 or several) into T, which may be an
// optional, a vector, or a plain type with or without a default.
template <class T, auto... Default>
std::optional<T> convert_values(const std::vector<std::string_view>& found, bool take_last,
                                std::vector<std::string> loc, std::vector<field_error>& errors) {
    using shape = value_shape<T>;
    using E = typename shape::element;
    if constexpr (shape::list) {
        T all;
        bool ok = true;
        for (auto text : found) {
            auto v = convert_value<E>(text, loc, errors);
            if (v) all.push_back(std::move(*v));
            ok = ok && v.has_value();
        }
        if (!ok) return std::nullopt;
        return all;
    } else {
        if (found.empty()) {
            if constexpr (sizeof...(Default) == 1) {
                return make_default<T, Default...>();
            } else if constexpr (shape::optional) {
                return T{};
            } else {
                add_missing(std::move(loc), errors);
                return std::nullopt;
            }
        }
        auto v = convert_value<E>(take_last ? found.back() : found.front(), loc, errors);
        if (!v) return std::nullopt;
        return T(std::move(*v));
    }
}

std::vector<std::string_view> query_values(const request& req, std::string_view name);
std::vector<std::string_view> header_values(const request& req, std::string_view name);
// The path parameter bound by name, or by position when `name` is empty; also says its name.
std::optional<std::string_view> path_value(const request& req, std::string_view name, std::size_t position,
                                           std::string& resolved_name);

// Checks Content-Type and parses the body; nullopt (with errors) when it is not usable JSON.
// `present` says whether there was a body at all.
std::optional<nlohmann::json> parse_json_body(const request& req, bool body_optional, bool& present,
                                              std::vector<field_error>& errors);
// Turns nlohmann's conversion error into a field_error located under "body".
void add_json_conversion_error(const nlohmann::json::exception& e, std::vector<field_error>& errors);

// ---------------------------------------------------------------------------------- binders

// binder<D> knows how to make a parameter of (decayed) type D from the request. Any class
// type it does not know is a service: `T&` of a type registered with app.provide<T>(...).
template <class D>
struct binder {
    static_assert(std::is_class_v<D>,
                  "keel: this handler parameter type is not understood. Use keel::path<T>, keel::query<T, "
                  "\"name\">, keel::header<T, \"name\">, keel::body<T>, keel::depends<provider>, keel::request&, "
                  "or a service registered with app.provide<T>(...) taken as T&");
    using slot = D*;
    static constexpr bool is_path = false;
    static constexpr bool is_service = true;

    static dependency_node node() { return {true, type_key<D>(), type_name<D>(), keel::scope::app, nullptr}; }
    static void bind(slot& out, call_context& ctx, std::size_t, std::vector<field_error>&) {
        out = static_cast<D*>(ctx.registry.service(type_key<D>(), type_name<D>(), ctx));
    }
    static D& take(slot& s) { return *s; }
};

template <class T, class F>
T& resolve_provider(const F& provider, call_context& ctx, std::uintptr_t key, keel::scope lifetime);

template <class F>
std::vector<dependency_node> dependency_children();

template <auto Provider, keel::scope Scope>
struct binder<depends<Provider, Scope>> {
    using dependency = depends<Provider, Scope>;
    using value_type = typename dependency::value_type;
    using slot = value_type*;
    static constexpr bool is_path = false;

    static dependency_node node() {
        return {false, provider_key(Provider), value_name<Provider>(), Scope,
                &dependency_children<std::remove_pointer_t<decltype(Provider)>>};
    }
    static void bind(slot& out, call_context& ctx, std::size_t, std::vector<field_error>&) {
        const auto key = provider_key(Provider);
        if (const auto replacement = ctx.registry.override_for(key)) {
            out = static_cast<value_type*>((*replacement)(ctx, Scope));
            return;
        }
        out = &resolve_provider<value_type>(Provider, ctx, key, Scope);
    }
    static dependency take(slot& s) { return dependency(*s); }
};

template <class T, fixed_string Name>
struct binder<path<T, Name>> {
    using slot = std::optional<path<T, Name>>;
    static constexpr bool is_path = true;
    static constexpr std::string_view declared_name = Name.view();

    static void bind(slot& out, call_context& ctx, std::size_t position, std::vector<field_error>& errors) {
        std::string name;
        auto text = path_value(ctx.req, Name.view(), position, name);
        std::vector<std::string_view> found;
        if (text) found.push_back(*text);
        auto v = convert_values<T>(found, false, {"path", std::move(name)}, errors);
        if (v) out.emplace(std::move(*v));
    }
    static path<T, Name>&& take(slot& s) { return std::move(*s); }
};

template <class T, fixed_string Name, auto... Default>
struct binder<query<T, Name, Default...>> {
    using slot = std::optional<query<T, Name, Default...>>;
    static constexpr bool is_path = false;

    static void bind(slot& out, call_context& ctx, std::size_t, std::vector<field_error>& errors) {
        auto v = convert_values<T, Default...>(query_values(ctx.req, Name.view()), true,
                                               {"query", std::string(Name.view())}, errors);
        if (v) out.emplace(std::move(*v));
    }
    static query<T, Name, Default...>&& take(slot& s) { return std::move(*s); }
};

template <class T, fixed_string Name, auto... Default>
struct binder<header<T, Name, Default...>> {
    using slot = std::optional<header<T, Name, Default...>>;
    static constexpr bool is_path = false;

    static void bind(slot& out, call_context& ctx, std::size_t, std::vector<field_error>& errors) {
        auto v = convert_values<T, Default...>(header_values(ctx.req, Name.view()), false,
                                               {"header", std::string(Name.view())}, errors);
        if (v) out.emplace(std::move(*v));
    }
    static header<T, Name, Default...>&& take(slot& s) { return std::move(*s); }
};

template <class T>
struct binder<body<T>> {
    using slot = std::optional<body<T>>;
    static constexpr bool is_path = false;
    using shape = value_shape<T>;

    static void bind(slot& out, call_context& ctx, std::size_t, std::vector<field_error>& errors) {
        bool present = false;
        auto json = parse_json_body(ctx.req, shape::optional, present, errors);
        if (!json) {
            if constexpr (shape::optional) {
                if (!present) out.emplace(T{});
            }
            return;
        }
        try {
            // nlohmann 3.11 has no std::optional support: convert the element, then wrap it.
            if constexpr (shape::optional) {
                out.emplace(T(json->template get<typename shape::element>()));
            } else {
                out.emplace(json->template get<T>());
            }
        } catch (model_errors& e) {  // a KEEL_MODEL: every failing field, located
            for (auto& f : e.errors()) {
                f.loc.insert(f.loc.begin(), "body");
                errors.push_back(std::move(f));
            }
        } catch (const nlohmann::json::exception& e) {
            add_json_conversion_error(e, errors);
        }
    }
    static body<T>&& take(slot& s) { return std::move(*s); }
};

template <>
struct binder<request> {
    using slot = request*;
    static constexpr bool is_path = false;

    static void bind(slot& out, call_context& ctx, std::size_t, std::vector<field_error>&) { out = &ctx.req; }
    static request& take(slot& s) { return *s; }
};

template <class A>
using binder_for = binder<std::remove_cvref_t<A>>;

template <class B>
concept service_binder = requires { requires B::is_service; };
template <class B>
concept node_binder = requires { B::node(); };

// A service is shared: taking it by value would copy it, silently.
template <class A>
constexpr void check_parameter() {
    static_assert(!service_binder<binder_for<A>> || std::is_lvalue_reference_v<A>,
                  "keel: take a service by reference (T& or const T&), not by value");
}

// For each parameter, how many path<> parameters come before it: positional path<> binding.
template <class... A>
constexpr std::array<std::size_t, sizeof...(A)> path_positions() {
    std::array<std::size_t, sizeof...(A)> positions{};
    constexpr bool is_path[] = {binder_for<A>::is_path..., false};
    std::size_t seen = 0;
    for (std::size_t i = 0; i < sizeof...(A); ++i) {
        positions[i] = seen;
        if (is_path[i]) ++seen;
    }
    return positions;
}

template <class A>
constexpr void collect_path_param(std::vector<std::string>& out) {
    if constexpr (binder_for<A>::is_path) out.emplace_back(binder_for<A>::declared_name);
}

template <class... A>
using bound_slots = std::tuple<typename binder_for<A>::slot...>;

// Binds every parameter; throws validation_error naming every failure of the request's values.
template <class... A, std::size_t... I>
bound_slots<A...> bind_all(call_context& ctx, type_list<A...>, std::index_sequence<I...>) {
    (check_parameter<A>(), ...);
    bound_slots<A...> slots;
    std::vector<field_error> errors;
    [[maybe_unused]] constexpr auto positions = path_positions<A...>();
    (binder_for<A>::bind(std::get<I>(slots), ctx, positions[I], errors), ...);
    if (!errors.empty()) throw validation_error(std::move(errors));
    return slots;
}

template <class... A>
bound_slots<A...> bind_all(call_context& ctx, type_list<A...> args) {
    return bind_all(ctx, args, std::index_sequence_for<A...>{});
}

template <class F, class... A, std::size_t... I>
decltype(auto) invoke_bound(const F& f, bound_slots<A...>& slots, type_list<A...>, std::index_sequence<I...>) {
    return std::invoke(f, binder_for<A>::take(std::get<I>(slots))...);
}

// Binds every parameter of f from the request and its dependencies, then calls f.
template <class F>
decltype(auto) call_bound(const F& f, call_context& ctx) {
    using args = typename handler_signature<F>::traits::args;
    auto slots = bind_all(ctx, args{});
    return invoke_bound(f, slots, args{}, std::make_index_sequence<std::tuple_size_v<decltype(slots)>>{});
}

template <class... A>
std::vector<dependency_node> declared_nodes(type_list<A...>) {
    std::vector<dependency_node> out;
    (
        [&] {
            if constexpr (node_binder<binder_for<A>>) out.push_back(binder_for<A>::node());
        }(),
        ...);
    return out;
}

template <class F>
std::vector<dependency_node> dependency_children() {
    return declared_nodes(typename handler_signature<F*>::traits::args{});
}

template <class R>
struct is_yield : std::false_type {};
template <class T>
struct is_yield<yield<T>> : std::true_type {};

// Makes (or finds, for request scope) the value of a provider: binds its parameters, calls it,
// runs a yield provider to its co_yield and schedules the rest as a teardown.
template <class T, class F>
T& resolve_provider(const F& provider, call_context& ctx, std::uintptr_t key, keel::scope lifetime) {
    if (lifetime == keel::scope::request) {
        if (void* cached = ctx.scope.find(key)) return *static_cast<T*>(cached);
    }
    using returned = std::remove_cvref_t<typename handler_signature<F>::traits::result>;
    T* value = nullptr;
    if constexpr (is_yield<returned>::value) {
        static_assert(std::is_same_v<typename provided_type<returned>::type, T>,
                      "keel: the replacement must provide the same type as the provider");
        auto& generator = ctx.scope.keep(std::make_unique<returned>(call_bound(provider, ctx)));
        value = &generator.start();  // a set-up that throws has nothing to tear down
        ctx.scope.on_finish([&generator](std::exception_ptr outcome) { return generator.finish(outcome); });
    } else if constexpr (std::is_same_v<returned, std::unique_ptr<T>> || std::is_same_v<returned, std::shared_ptr<T>>) {
        auto& owner = ctx.scope.keep(std::make_unique<returned>(call_bound(provider, ctx)));
        if (!owner) throw std::logic_error("keel: a provider of " + std::string(type_name<T>()) + " returned null");
        value = owner.get();
    } else {
        static_assert(std::is_convertible_v<returned, T>, "keel: the replacement must provide the same type as the provider");
        value = &ctx.scope.keep(std::make_unique<T>(call_bound(provider, ctx)));
    }
    if (lifetime == keel::scope::request) ctx.scope.remember(key, value);
    return *value;
}

// ---------------------------------------------------------------------------------- results

response void_response(keel::status success);

template <class R>
response make_response(R&& value, keel::status success) {
    using D = std::remove_cvref_t<R>;
    if constexpr (std::is_same_v<D, response>) {
        return std::forward<R>(value);
    } else {
        static_assert(std::is_constructible_v<nlohmann::json, R&&>,
                      "keel: a handler must return keel::response, void, or a value nlohmann_json can "
                      "serialise (give your type a to_json, e.g. with NLOHMANN_DEFINE_TYPE_INTRUSIVE)");
        std::string body;
        append_json(body, value);  // models and plain values directly; anything else through nlohmann
        return response(success, std::move(body), "application/json");
    }
}

struct route_call {
    keel::status success = keel::status::ok;
    const dependency_registry* registry = nullptr;
    int conflict_attempts = 1;  // tries in all while the handler fails with a transaction_conflict
};

template <class F>
response respond(const F& f, call_context& ctx, keel::status success) {
    using traits = typename handler_signature<F>::traits;
    if constexpr (std::is_void_v<typename traits::result>) {
        call_bound(f, ctx);
        return void_response(success);
    } else {
        return make_response(call_bound(f, ctx), success);
    }
}

// After the handler: the teardowns see its outcome, and decide the request's. A teardown's
// error (a failed commit) replaces a success; a swallowed handler error still has no value to
// answer with, so the handler's error stands.
inline response settle(request_scope& scope, std::optional<response>& answer, std::exception_ptr failure) {
    auto outcome = scope.finish(failure);
    if (outcome) std::rethrow_exception(outcome);
    if (failure) std::rethrow_exception(failure);
    return std::move(*answer);
}

template <class F>
response call_once(const F& f, request& req, const route_call& call) {
    request_scope scope;
    call_context ctx{req, scope, *call.registry};
    std::optional<response> answer;
    std::exception_ptr failure;
    try {
        answer.emplace(respond(f, ctx, call.success));
    } catch (...) {
        failure = std::current_exception();
    }
    return settle(scope, answer, failure);
}

// Each try has its own request scope: its teardowns (the rollback) run before the next begins.
template <class F>
response call_and_respond(const F& f, request& req, const route_call& call) {
    if (call.conflict_attempts <= 1) return call_once(f, req, call);
    return retry_on_conflict([&] { return call_once(f, req, call); },
                             retry_policy{.attempts = call.conflict_attempts});
}

// A plain handler may block: it runs, with its dependencies and their teardown, on the worker pool.
template <class F>
task<response> run_blocking_handler(const F& f, request& req, route_call call) {
    co_return co_await offload([&f, &req, call] { return call_and_respond(f, req, call); });
}

template <class... A>
constexpr bool any_dependency(type_list<A...>) {
    return (node_binder<binder_for<A>> || ... || false);
}

template <class F>
constexpr bool has_dependencies() {
    return any_dependency(typename handler_signature<F>::traits::args{});
}

// A coroutine handler runs on the I/O thread. Its dependencies may block (a session's BEGIN,
// a commit), so their set-up and teardown are offloaded; its arguments live in this frame.
template <class F>
task<response> run_coroutine_once(const F& f, request& req, route_call call) {
    using traits = typename handler_signature<F>::traits;
    using returned = typename traits::result::value_type;
    using args = typename traits::args;
    constexpr bool offload_dependencies = has_dependencies<F>();
    request_scope scope;
    call_context ctx{req, scope, *call.registry};
    std::optional<response> answer;
    std::exception_ptr failure;
    try {
        auto slots = offload_dependencies ? co_await offload([&] { return bind_all(ctx, args{}); }) : bind_all(ctx, args{});
        constexpr auto count = std::tuple_size_v<decltype(slots)>;
        if constexpr (std::is_void_v<returned>) {
            co_await invoke_bound(f, slots, args{}, std::make_index_sequence<count>{});
            answer.emplace(void_response(call.success));
        } else {
            answer.emplace(make_response(co_await invoke_bound(f, slots, args{}, std::make_index_sequence<count>{}),
                                         call.success));
        }
    } catch (...) {
        failure = std::current_exception();
    }
    if (offload_dependencies) {
        co_return co_await offload([&] { return settle(scope, answer, failure); });
    }
    co_return settle(scope, answer, failure);
}

// Retried as a whole (fresh dependencies) on a transaction_conflict when the route asks for it.
template <class F>
task<response> run_coroutine_handler(const F& f, request& req, route_call call) {
    for (int attempt = 0;; ++attempt) {
        try {
            co_return co_await run_coroutine_once(f, req, call);
        } catch (const transaction_conflict&) {
            if (attempt + 1 >= call.conflict_attempts) throw;
        }
        co_await offload([&] { conflict_backoff(retry_policy{.attempts = call.conflict_attempts}, attempt); });
    }
}

// ---------------------------------------------------------------------------------- erasure

using route_function = std::function<task<response>(request&, const route_call&)>;

struct handler_info {
    route_function invoke;
    std::vector<std::string> path_params;       // as declared by path<> parameters; "" = positional
    std::vector<dependency_node> dependencies;  // depends<> and services, for the build-time check
    bool on_io_thread = false;                  // a coroutine handler
};

template <class... A>
std::vector<std::string> declared_path_params(type_list<A...>) {
    std::vector<std::string> out;
    (collect_path_param<A>(out), ...);
    return out;
}

template <class F>
handler_info make_handler(F f) {
    using traits = typename handler_signature<F>::traits;
    handler_info info;
    info.path_params = declared_path_params(typename traits::args{});
    info.dependencies = declared_nodes(typename traits::args{});
    info.on_io_thread = is_task<std::remove_cvref_t<typename traits::result>>::value;
    if constexpr (is_task<std::remove_cvref_t<typename traits::result>>::value) {
        info.invoke = [f = std::move(f)](request& req, const route_call& call) {
            return run_coroutine_handler(f, req, call);
        };
    } else {
        info.invoke = [f = std::move(f)](request& req, const route_call& call) {
            return run_blocking_handler(f, req, call);
        };
    }
    return info;
}

}  // namespace keel::detail
