#pragma once

// Binding: how each parameter of a handler, provider, service factory or lifespan hook is made
// from the request and the app's dependencies. Every binding failure of the request's own
// values (path, query, header, body) is collected, and thrown as one validation_error.
//
// This is the part of a request that has to be a template: it knows the parameter types.
// What happens around it (the request scope, threads, retries, teardown, error responses) is
// compiled once, in src/pipeline/.

#include <keel/body.hpp>
#include <keel/codec.hpp>
#include <keel/depends.hpp>
#include <keel/detail/dependency_graph.hpp>
#include <keel/detail/request_scope.hpp>
#include <keel/detail/schema_of.hpp>
#include <keel/detail/signature.hpp>
#include <keel/detail/slots.hpp>
#include <keel/detail/type_name.hpp>
#include <keel/detail/value_doc.hpp>
#include <keel/detail/value_shape.hpp>
#include <keel/header.hpp>
#include <keel/model.hpp>
#include <keel/path.hpp>
#include <keel/query.hpp>
#include <keel/request.hpp>
#include <keel/request_logger.hpp>
#include <keel/validation_error.hpp>

#include <array>
#include <cstddef>
#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace keel::detail {

// ---------------------------------------------------------------------------------- values

template <class T, auto Default>
T make_default() {
    if constexpr (requires { Default.view(); }) {
        return T(std::string(Default.view()));
    } else {
        return T(Default);
    }
}

// Refuses text PostgreSQL cannot store (an embedded NUL); false when it added an error.
bool check_text(std::string_view text, const std::vector<std::string>& loc, std::vector<field_error>& errors);

template <class E>
std::optional<E> convert_value(std::string_view text, const std::vector<std::string>& loc,
                               std::vector<field_error>& errors) {
    if (!check_text(text, loc, errors)) return std::nullopt;
    parse_failure why;
    static_assert(mapped<E>,
                  "keel: no codec<T> for this parameter type; use an integer, floating point, bool, "
                  "std::string, std::string_view or another type keel maps, or specialise keel::codec<T>");
    auto value = codec<E>::parse(text, why);
    if (!value) add_parse_failure(loc, std::move(why), errors);
    return value;
}

// A parameter's template arguments after its name: at most one default value, and constraints.
template <auto... X>
constexpr std::size_t default_count = sizeof...(X) - rules_of<X...>::constraints;

template <auto First, auto... Rest>
constexpr auto default_of() {
    if constexpr (constraint<decltype(First)>) {
        return default_of<Rest...>();
    } else {
        return First;
    }
}

// Checks the constraints among X; false when the value broke one.
template <class T, auto... X>
bool passes_rules(const T& value, const std::vector<std::string>& loc, std::vector<field_error>& errors) {
    if constexpr (rules_of<X...>::constraints == 0) {
        return true;
    } else {
        const auto before = errors.size();
        check_rules<T, X...>(value, loc, errors);
        return errors.size() == before;
    }
}

// Converts the values found for one parameter (0, 1 or several) into T, which may be an
// optional, a vector, or a plain type with or without a default, checks its constraints (X
// holds them, and the default), and makes `out` of it (the parameter's wrapper: path<T>,
// query<T>, ...); leaves `out` empty when it adds an error.
template <class T, auto... X, class W>
void convert_values(const std::vector<std::string_view>& found, bool take_last, std::vector<std::string> loc,
                    std::vector<field_error>& errors, slot<W>& out) {
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
        if (ok && passes_rules<T, X...>(all, loc, errors)) out.emplace(std::move(all));
    } else {
        if (found.empty()) {
            if constexpr (default_count<X...> == 1) {
                out.emplace(make_default<T, default_of<X...>()>());
            } else if constexpr (shape::optional) {
                out.emplace(T{});
            } else {
                add_missing(std::move(loc), errors);
            }
            return;
        }
        auto v = convert_value<E>(take_last ? found.back() : found.front(), loc, errors);
        if (v && passes_rules<E, X...>(*v, loc, errors)) out.emplace(T(std::move(*v)));
    }
}

std::vector<std::string_view> query_values(const request& req, std::string_view name);
std::vector<std::string_view> header_values(const request& req, std::string_view name);
// The path parameter bound by name, or by position when `name` is empty; also says its name.
std::optional<std::string_view> path_value(const request& req, std::string_view name, std::size_t position,
                                           std::string& resolved_name);

// Checks Content-Type and parses the body; nullopt (with errors) when it is not usable JSON,
// or holds a string PostgreSQL cannot store. `present` says whether there was a body at all.
std::optional<json_document> parse_json_body(const request& req, bool body_optional, bool& present,
                                             std::vector<field_error>& errors);
// Turns nlohmann's conversion error (its id and what()) into a field_error located under "body".
void add_json_conversion_error(int id, const char* what, std::vector<field_error>& errors);

// keel reads these itself (strictly, every failing field named); any other type goes through
// nlohmann_json's from_json.
template <class T>
struct keel_json_readable : std::bool_constant<mapped<T> || keel_model<T>> {};
template <class T>
struct keel_json_readable<std::optional<T>> : keel_json_readable<T> {};
template <class T, class A>
struct keel_json_readable<std::vector<T, A>> : keel_json_readable<T> {};

// A body of a type keel does not know, through nlohmann's get<> (Json: see read_foreign_json).
template <class T, class Json = nlohmann::json>
void read_foreign_body(Json& json, std::optional<T>& out, std::vector<field_error>& errors) {
    static_assert(complete_json<Json>,
                  "keel: a body<T> of a type that is not a KEEL_MODEL is read by nlohmann_json's from_json: "
                  "#include <nlohmann/json.hpp>");
    try {
        out.emplace(json.template get<T>());
    } catch (const invalid_value& e) {
        errors.push_back({{"body"}, e.msg(), e.type()});
    } catch (const typename Json::exception& e) {
        add_json_conversion_error(e.id, e.what(), errors);
    }
}

// A value bound from the request itself, as the dependency graph sees it: an app-scoped
// factory that asks for one is a captive dependency.
constexpr dependency_node request_value_node(std::string_view what, std::string_view name = {},
                                             value_doc doc = {}) {
    return {node_kind::request_value, 0, name, keel::scope::request, nullptr, what, doc};
}

// A path, query or header parameter's schema: an optional one is documented as its value (it is
// absent, never null), a list as an array.
template <class T>
void parameter_schema(keel::schema& s) {
    if constexpr (value_shape<T>::optional) {
        schema_of<typename T::value_type>(s);
    } else {
        schema_of<T>(s);
    }
}

template <class T, auto Default>
void default_json(std::string& out) {
    append_json(out, make_default<T, Default>());
}

template <class T, auto... X>
constexpr value_doc parameter_doc(value_location in) {
    value_doc doc{in, &parameter_schema<T>, false, nullptr, rules_pointer<X...>()};
    if constexpr (default_count<X...> == 1) {
        doc.default_json = &default_json<T, default_of<X...>()>;
    } else {
        doc.required = !value_shape<T>::optional && !value_shape<T>::list;
    }
    return doc;
}

// ---------------------------------------------------------------------------------- binders

// binder<D> knows how to make a parameter of (decayed) type D. Any class type it does not know
// is a service: `T&` of a type registered with app.provide<T>(...).
template <class D>
struct binder {
    static_assert(std::is_class_v<D>,
                  "keel: this handler parameter type is not understood. Use keel::path<T>, keel::query<T, "
                  "\"name\">, keel::header<T, \"name\">, keel::body<T>, keel::depends<provider>, "
                  "keel::request&, keel::request_logger, "
                  "or a service registered with app.provide<T>(...) taken as T&");
    using slot = D*;
    static constexpr bool is_path = false;
    static constexpr bool is_service = true;

    static dependency_node node() {
        return {node_kind::service, type_key<D>(), type_name<D>(), keel::scope::app, nullptr, {}};
    }
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
        dependency_node n{node_kind::provider,
                          provider_key(Provider),
                          value_name<Provider>(),
                          Scope,
                          &dependency_children<decltype(Provider)>,
                          {}};
        n.awaits = is_async_yield<typename provider_result<decltype(Provider)>::type>::value;
        return n;
    }
    static void bind(slot& out, call_context& ctx, std::size_t, std::vector<field_error>&) {
        const auto key = provider_key(Provider);
        if (const auto replacement = ctx.registry.override_for(key)) {
            out = static_cast<value_type*>(replacement->resolve(ctx, Scope));
            return;
        }
        out = &resolve_provider<value_type>(Provider, ctx, key, Scope);
    }
    static dependency take(slot& s) { return dependency(*s); }
};

template <class T, fixed_string Name, auto... Rules>
struct binder<path<T, Name, Rules...>> {
    using slot = detail::slot<path<T, Name, Rules...>>;
    static constexpr bool is_path = true;
    static constexpr std::string_view declared_name = Name.view();

    static constexpr dependency_node node() {
        return request_value_node("keel::path", Name.view(),
                                  parameter_doc<T, Rules...>(value_location::path));
    }
    static void bind(slot& out, call_context& ctx, std::size_t position, std::vector<field_error>& errors) {
        std::string name;
        auto text = path_value(ctx.req, Name.view(), position, name);
        std::vector<std::string_view> found;
        if (text) found.push_back(*text);
        convert_values<T, Rules...>(found, false, {"path", std::move(name)}, errors, out);
    }
    static path<T, Name, Rules...>&& take(slot& s) { return std::move(s.get()); }
};

template <class T, fixed_string Name, auto... X>
struct binder<query<T, Name, X...>> {
    using slot = detail::slot<query<T, Name, X...>>;
    static constexpr bool is_path = false;

    static constexpr dependency_node node() {
        return request_value_node("keel::query", Name.view(), parameter_doc<T, X...>(value_location::query));
    }
    static void bind(slot& out, call_context& ctx, std::size_t, std::vector<field_error>& errors) {
        convert_values<T, X...>(query_values(ctx.req, Name.view()), true, {"query", std::string(Name.view())},
                                errors, out);
    }
    static query<T, Name, X...>&& take(slot& s) { return std::move(s.get()); }
};

template <class T, fixed_string Name, auto... X>
struct binder<header<T, Name, X...>> {
    using slot = detail::slot<header<T, Name, X...>>;
    static constexpr bool is_path = false;

    static constexpr dependency_node node() {
        return request_value_node("keel::header", Name.view(),
                                  parameter_doc<T, X...>(value_location::header));
    }
    static void bind(slot& out, call_context& ctx, std::size_t, std::vector<field_error>& errors) {
        convert_values<T, X...>(header_values(ctx.req, Name.view()), false,
                                {"header", std::string(Name.view())}, errors, out);
    }
    static header<T, Name, X...>&& take(slot& s) { return std::move(s.get()); }
};

template <class T>
struct binder<body<T>> {
    using slot = detail::slot<body<T>>;
    static constexpr bool is_path = false;
    using shape = value_shape<T>;

    static constexpr dependency_node node() {
        return request_value_node(
            "keel::body", {},
            {value_location::body, &schema_of<typename shape::element>, !shape::optional, nullptr});
    }
    static void bind(slot& out, call_context& ctx, std::size_t, std::vector<field_error>& errors) {
        bool present = false;
        auto json = parse_json_body(ctx.req, shape::optional, present, errors);
        if (!json) {
            if constexpr (shape::optional) {
                if (!present) out.emplace(T{});
            }
            return;
        }
        if constexpr (shape::optional) {
            if (json->root().is_null()) {  // `null` is no body, as an empty one is
                out.emplace(T{});
                return;
            }
        }
        using element = typename shape::element;
        if constexpr (keel_json_readable<element>::value) {
            element value{};
            const auto before = errors.size();
            read_value(json->root(), value, {"body"}, errors);
            if (errors.size() == before) out.emplace(T(std::move(value)));
        } else if constexpr (std::is_same_v<element, nlohmann::json>) {
            out.emplace(T(std::move(json->value())));
        } else {
            std::optional<element> value;
            read_foreign_body(json->value(), value, errors);
            if (value) out.emplace(T(std::move(*value)));
        }
    }
    static body<T>&& take(slot& s) { return std::move(s.get()); }
};

template <>
struct binder<request> {
    using slot = request*;
    static constexpr bool is_path = false;

    static constexpr dependency_node node() { return request_value_node("keel::request&"); }
    static void bind(slot& out, call_context& ctx, std::size_t, std::vector<field_error>&) { out = &ctx.req; }
    static request& take(slot& s) { return *s; }
};

template <>
struct binder<request_logger> {
    using slot = std::optional<request_logger>;
    static constexpr bool is_path = false;

    static constexpr dependency_node node() { return request_value_node("keel::request_logger"); }
    static void bind(slot& out, call_context& ctx, std::size_t, std::vector<field_error>&) {
        out.emplace(ctx.log, ctx.req);
    }
    static request_logger take(slot& s) { return *s; }
};

template <class A>
using binder_for = binder<std::remove_cvref_t<A>>;

template <class B>
concept service_binder = requires {
    requires B::is_service;
};

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

template <class... A>
using bound_slots = slot_pack<typename binder_for<A>::slot...>;

// Binds every parameter; throws validation_error naming every failure of the request's values.
// (`Slots` is bound_slots<A...>, deduced: GCC cannot mangle the alias in a signature.)
template <class Slots, class... A, std::size_t... I>
void bind_into(Slots& slots, call_context& ctx, type_list<A...>, std::index_sequence<I...>) {
    (check_parameter<A>(), ...);
    std::vector<field_error> errors;
    [[maybe_unused]] constexpr auto positions = path_positions<A...>();
    (binder_for<A>::bind(slot_at<I>(slots), ctx, positions[I], errors), ...);
    if (!errors.empty()) throw validation_error(std::move(errors));
}

template <class Slots, class... A>
void bind_into(Slots& slots, call_context& ctx, type_list<A...> args) {
    bind_into(slots, ctx, args, std::index_sequence_for<A...>{});
}

template <class F, class Slots, class... A, std::size_t... I>
decltype(auto) invoke_bound(const F& f, Slots& slots, type_list<A...>, std::index_sequence<I...>) {
    return f(binder_for<A>::take(slot_at<I>(slots))...);  // a function or a call operator: no std::invoke
}

template <class F, class Slots, class... A>
decltype(auto) invoke_bound(const F& f, Slots& slots, type_list<A...> args) {
    return invoke_bound(f, slots, args, std::index_sequence_for<A...>{});
}

template <class... A>
bound_slots<A...> slots_for(type_list<A...>);

/// The bound arguments of callable F.
template <class F>
using slots_of = decltype(slots_for(signature_args<F>{}));

/// Binds every parameter of f from the request and its dependencies, then calls f.
template <class F>
decltype(auto) call_bound(const F& f, call_context& ctx) {
    slots_of<F> slots;
    bind_into(slots, ctx, signature_args<F>{});
    return invoke_bound(f, slots, signature_args<F>{});
}

template <class... A>
std::vector<dependency_node> declared_nodes(type_list<A...>) {
    return {binder_for<A>::node()...};
}

/// The dependency graph's edges out of callable F: one node per parameter.
template <class F>
std::vector<dependency_node> dependency_children() {
    return declared_nodes(signature_args<F>{});
}

// An async_yield provider's teardown, as the request scope awaits it.
template <class Generator>
task<std::exception_ptr> finish_awaited(Generator& generator, std::exception_ptr outcome) {
    co_return co_await generator.finish(std::move(outcome));
}

// Makes (or finds, for request scope) the value of a provider or of its replacement: binds its
// parameters, calls it, runs a yield provider to its co_yield and schedules the rest as a
// teardown that sees the request's outcome.
template <class T, class F>
T& resolve_provider(const F& provider, call_context& ctx, std::uintptr_t key, keel::scope lifetime) {
    if (lifetime == keel::scope::request) {
        if (void* cached = ctx.scope.find(key)) return *static_cast<T*>(cached);
    }
    using returned = signature_result<F>;
    T* value = nullptr;
    if constexpr (is_yield<returned>::value) {
        auto& generator = ctx.scope.keep(std::make_unique<returned>(call_bound(provider, ctx)));
        value = &generator.start();  // a set-up that throws has nothing to tear down
        ctx.scope.on_finish([&generator](std::exception_ptr outcome) { return generator.finish(outcome); });
    } else if constexpr (is_async_yield<returned>::value) {
        auto& generator = ctx.scope.keep(std::make_unique<returned>(call_bound(provider, ctx)));
        value = &generator.start();
        ctx.scope.on_finish_awaiting([&generator](std::exception_ptr outcome) {
            return finish_awaited(generator, std::move(outcome));
        });
    } else if constexpr (std::is_same_v<returned, std::unique_ptr<T>> ||
                         std::is_same_v<returned, std::shared_ptr<T>>) {
        auto& owner = ctx.scope.keep(std::make_unique<returned>(call_bound(provider, ctx)));
        if (!owner) throw_null_provider(type_name<T>());
        value = owner.get();
    } else {
        value = &ctx.scope.keep(std::make_unique<T>(call_bound(provider, ctx)));
    }
    if (lifetime == keel::scope::request) ctx.scope.remember(key, value);
    return *value;
}

}  // namespace keel::detail
