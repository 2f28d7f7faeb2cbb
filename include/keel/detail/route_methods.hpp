#pragma once

#include <keel/method.hpp>
#include <keel/route.hpp>

#include <string_view>
#include <utility>

namespace keel::detail {

// get/post/put/... for anything that registers routes through `add(method, path, handler)`:
// the app and routers spell routes the same way.
template <class Self>
class route_methods {
public:
    template <class F>
    route get(std::string_view path, F handler) {
        return self().add(keel::method::get, path, std::move(handler));
    }
    template <class F>
    route post(std::string_view path, F handler) {
        return self().add(keel::method::post, path, std::move(handler));
    }
    template <class F>
    route put(std::string_view path, F handler) {
        return self().add(keel::method::put, path, std::move(handler));
    }
    template <class F>
    route patch(std::string_view path, F handler) {
        return self().add(keel::method::patch, path, std::move(handler));
    }
    template <class F>
    route delete_(std::string_view path, F handler) {
        return self().add(keel::method::delete_, path, std::move(handler));
    }
    template <class F>
    route options(std::string_view path, F handler) {
        return self().add(keel::method::options, path, std::move(handler));
    }

private:
    Self& self() { return static_cast<Self&>(*this); }
};

}  // namespace keel::detail
