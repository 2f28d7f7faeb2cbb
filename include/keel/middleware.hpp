#pragma once

#include <keel/request.hpp>
#include <keel/response.hpp>
#include <keel/task.hpp>

#include <cstddef>
#include <functional>

namespace keel {

namespace detail {
// The app's ordered middleware, ending with the router; `next` walks it.
class middleware_chain {
public:
    virtual task<response> call(std::size_t index, request& req) const = 0;

protected:
    ~middleware_chain() = default;
};
}  // namespace detail

/// The rest of the chain, as seen by one middleware: `co_await next(req)` runs the inner
/// middleware and the route, and gives their response (errors already turned into responses).
class next {
public:
    next(const detail::middleware_chain& chain, std::size_t index) noexcept : chain_(&chain), index_(index) {}
    task<response> operator()(request& req) const { return chain_->call(index_, req); }

private:
    const detail::middleware_chain* chain_;
    std::size_t index_;
};

/// Code around every request, registered with `app.use(...)`; the first registered is the
/// outermost. It may change the request, answer early without calling `next`, or change the
/// response:
/// ```
/// app.use([](keel::request& req, keel::next next) -> keel::task<keel::response> {
///     auto res = co_await next(req);
///     res.headers().set("X-Frame-Options", "DENY");
///     co_return res;
/// });
/// ```
/// Middleware runs on the I/O thread: it must not block (see keel::offload).
using middleware = std::function<task<response>(request&, next)>;

}  // namespace keel
