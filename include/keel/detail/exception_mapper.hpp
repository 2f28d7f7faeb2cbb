#pragma once

#include <keel/request.hpp>
#include <keel/response.hpp>

#include <exception>
#include <functional>
#include <optional>

namespace keel::detail {

// One app.exception_handler<E>(...), type-erased: the response for `error`, or nullopt when
// the error is not an E.
using exception_mapper =
    std::function<std::optional<response>(const std::exception_ptr& error, const request&)>;

}  // namespace keel::detail
