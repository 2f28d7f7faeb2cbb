#pragma once

// Turns a handler into a type-erased handler_info: its signature analysed once, its parameters
// bound and its result converted per request. Everything else that happens to a request is in
// src/pipeline/.

#include <keel/detail/binders.hpp>
#include <keel/detail/handler_info.hpp>
#include <keel/detail/signature.hpp>
#include <keel/response.hpp>
#include <keel/status.hpp>
#include <keel/task.hpp>

#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace keel::detail {

response void_response(keel::status success);

template <class R>
response make_response(R&& value, keel::status success) {
    using D = std::remove_cvref_t<R>;
    if constexpr (std::is_same_v<D, response>) {
        return std::forward<R>(value);
    } else {
        std::string body;
        append_json(body, value);  // models and plain values directly; anything else through nlohmann
        return response(success, std::move(body), "application/json");
    }
}

template <class F>
response call_and_respond(const F& f, call_context& ctx, keel::status success) {
    if constexpr (std::is_void_v<typename handler_signature<F>::traits::result>) {
        call_bound(f, ctx);
        return void_response(success);
    } else {
        return make_response(call_bound(f, ctx), success);
    }
}

template <class F>
class coroutine_call final : public bound_coroutine {
public:
    explicit coroutine_call(const F& f) noexcept : f_(f) {}

    task<response> call(keel::status success) override {
        using returned = typename signature_result<F>::value_type;
        if constexpr (std::is_void_v<returned>) {
            co_await invoke_bound(f_, slots, signature_args<F>{});
            co_return void_response(success);
        } else {
            co_return make_response(co_await invoke_bound(f_, slots, signature_args<F>{}), success);
        }
    }

    slots_of<F> slots;

private:
    const F& f_;
};

template <class A>
void collect_path_param(std::vector<std::string>& out) {
    if constexpr (binder_for<A>::is_path) out.emplace_back(binder_for<A>::declared_name);
}

template <class... A>
std::vector<std::string> declared_path_params(type_list<A...>) {
    std::vector<std::string> out;
    (collect_path_param<A>(out), ...);
    return out;
}

// What a handler returns: R for a task<R>, else its own result.
template <class R>
struct task_value {
    using type = R;
};
template <class T>
struct task_value<task<T>> {
    using type = T;
};

template <class F>
handler_info make_handler(F f) {
    using result = signature_result<F>;
    handler_info info;
    info.path_params = declared_path_params(signature_args<F>{});
    info.dependencies = dependency_children<F>();
    using returned = std::remove_cvref_t<typename task_value<result>::type>;
    info.returns_response = std::is_same_v<returned, response>;
    if constexpr (!std::is_void_v<returned> && !std::is_same_v<returned, response>) {
        info.result_schema = &schema_of<returned>;
    }
    if constexpr (is_task<result>::value) {
        info.on_io_thread = true;
        info.bind_coroutine = decltype(info.bind_coroutine)(
            [f = std::move(f)](call_context& ctx) -> std::unique_ptr<bound_coroutine> {
                auto call = std::make_unique<coroutine_call<F>>(f);
                bind_into(call->slots, ctx, signature_args<F>{});
                return call;
            });
    } else {
        info.call_blocking =
            decltype(info.call_blocking)([f = std::move(f)](call_context& ctx, keel::status success) {
                return call_and_respond(f, ctx, success);
            });
    }
    return info;
}

}  // namespace keel::detail
