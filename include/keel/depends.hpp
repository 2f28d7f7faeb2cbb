#pragma once

#include <keel/async_yield.hpp>
#include <keel/scope.hpp>
#include <keel/yield.hpp>

#include <memory>
#include <type_traits>

namespace keel {

namespace detail {
template <class R>
struct provided_type {
    using type = R;
};
template <class T>
struct provided_type<yield<T>> {
    using type = T;
};
template <class T>
struct provided_type<async_yield<T>> {
    using type = T;
};
template <class F>
struct provider_result;
template <class R, class... A>
struct provider_result<R (*)(A...)> {
    using type = std::remove_cvref_t<R>;
};
template <class R, class... A>
struct provider_result<R (*)(A...) noexcept> {
    using type = std::remove_cvref_t<R>;
};

template <class R>
struct is_yield : std::false_type {};
template <class T>
struct is_yield<yield<T>> : std::true_type {};
template <class R>
struct is_async_yield : std::false_type {};
template <class T>
struct is_async_yield<async_yield<T>> : std::true_type {};

/// What a provider of T may return: T, a smart pointer to T, or (request scope) a yield<T> or
/// async_yield<T>.
template <class T, class R>
constexpr bool provides = std::is_same_v<R, yield<T>> || std::is_same_v<R, async_yield<T>> ||
                          std::is_same_v<R, std::unique_ptr<T>> || std::is_same_v<R, std::shared_ptr<T>> ||
                          std::is_convertible_v<R, T>;
}  // namespace detail

/// A dependency on what `Provider` makes: `using session_dep = keel::depends<get_session>;`
///
/// `Provider` is a function whose parameters are injected like a handler's (path, query,
/// header and body values, the request, services, other `depends`). It returns the value, or a
/// `keel::yield<T>` to run code after the handler (a `keel::async_yield<T>` to await there). Use the
/// parameter like a pointer to the value: `session->exec(...)`, `*session`.
///
/// Request scope (the default): made at most once per request and shared by every dependant.
/// Transient (`keel::depends<make_id, keel::scope::transient>`): made at every injection.
/// App-scoped values are services: `app.provide<T>(keel::scope::app, factory)`, asked for as `T&`.
template <auto Provider, scope Scope = scope::request>
class depends {
    static_assert(std::is_pointer_v<decltype(Provider)> &&
                      std::is_function_v<std::remove_pointer_t<decltype(Provider)>>,
                  "keel::depends<Provider>: Provider must be a function (its address is its identity)");
    static_assert(Scope != scope::app,
                  "keel::depends: app-scoped values are services; register one with "
                  "app.provide<T>(keel::scope::app, factory) and ask for it as T&");

public:
    using value_type =
        typename detail::provided_type<typename detail::provider_result<decltype(Provider)>::type>::type;
    static constexpr auto provider = Provider;
    static constexpr keel::scope lifetime = Scope;

    explicit depends(value_type& value) noexcept : value_(&value) {}

    value_type& operator*() const noexcept { return *value_; }
    value_type* operator->() const noexcept { return value_; }
    value_type& get() const noexcept { return *value_; }
    operator value_type&() const noexcept { return *value_; }  // NOLINT: reads like the value

private:
    value_type* value_;
};

}  // namespace keel
