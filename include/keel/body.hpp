#pragma once

#include <keel/detail/param_value.hpp>

namespace keel {

/// The JSON request body as a T: a `KEEL_MODEL` struct, a number, bool or string, or a
/// std::vector/std::optional of those, read strictly by keel; `nlohmann::json` itself; or any
/// type with nlohmann_json's `from_json` (the `NLOHMANN_DEFINE_TYPE_*` macros work as they are;
/// such a file includes <nlohmann/json.hpp>). `body<std::optional<T>>` accepts an empty body, or the JSON
/// `null`, as none. The body must be JSON (`Content-Type: application/json`, any `+json`, or none); anything
/// else, malformed JSON, a missing field or a wrong type is a 422 naming the field.
template <class T>
class body : public detail::param_value<T> {
public:
    using detail::param_value<T>::param_value;
};

}  // namespace keel
