#pragma once

// What a handler's or provider's signature says: its parameter types and its result. Lambdas,
// function objects and functions with one fixed signature qualify; generic lambdas do not.

#include <type_traits>

namespace keel::detail {

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
struct callable_traits<R(A...) noexcept> : callable_traits<R(A...)> {};
template <class R, class... A>
struct callable_traits<R (*)(A...)> : callable_traits<R(A...)> {};
template <class R, class... A>
struct callable_traits<R (*)(A...) noexcept> : callable_traits<R(A...)> {};
template <class C, class R, class... A>
struct callable_traits<R (C::*)(A...)> : callable_traits<R(A...)> {};
template <class C, class R, class... A>
struct callable_traits<R (C::*)(A...) const> : callable_traits<R(A...)> {};
template <class C, class R, class... A>
struct callable_traits<R (C::*)(A...) noexcept> : callable_traits<R(A...)> {};
template <class C, class R, class... A>
struct callable_traits<R (C::*)(A...) const noexcept> : callable_traits<R(A...)> {};

template <class F>
concept has_call_operator = requires {
    &F::operator();
};

template <class F>
struct handler_signature {
    static_assert(
        std::is_function_v<std::remove_pointer_t<F>>,
        "keel: a handler or provider must have one fixed signature: no `auto` parameters, no overloads");
    using traits = callable_traits<std::remove_pointer_t<F>>;
};
template <class F>
requires has_call_operator<F>
struct handler_signature<F> {
    using traits = callable_traits<decltype(&F::operator())>;
};

/// The parameter types of callable F, as a type_list.
template <class F>
using signature_args = typename handler_signature<F>::traits::args;
/// What callable F returns, without cv or reference.
template <class F>
using signature_result = std::remove_cvref_t<typename handler_signature<F>::traits::result>;

}  // namespace keel::detail
