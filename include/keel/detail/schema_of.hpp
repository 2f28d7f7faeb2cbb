#pragma once

// schema_of<T>: the JSON Schema of each type a route reads or writes, for the OpenAPI document.
// Each is a small function that calls keel::schema (compiled once, in src/openapi/); nothing
// here runs per request.

#include <keel/codec.hpp>
#include <keel/detail/field_rules.hpp>
#include <keel/detail/type_key.hpp>
#include <keel/detail/type_name.hpp>
#include <keel/detail/value_shape.hpp>
#include <keel/model.hpp>
#include <keel/schema.hpp>

#include <concepts>
#include <cstdint>
#include <limits>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <type_traits>

namespace keel::detail {

template <class T>
concept has_describe = requires(keel::schema& s) {
    codec<T>::describe(s);
};

// std::map / std::unordered_map with string keys: a JSON object (read through nlohmann_json).
template <class T>
concept string_keyed_map = requires {
    typename T::mapped_type;
    typename T::key_type;
    requires std::is_same_v<typename T::key_type, std::string>;
};

void integer_schema(keel::schema& s, std::int64_t min, std::uint64_t max, int bits, bool is_signed);

template <class T>
void schema_of(keel::schema& s);

template <class T>
void model_schema(keel::schema& s) {
    s.type("object");
    keel_describe(s, static_cast<const T*>(nullptr));  // KEEL_MODEL: one property per field
}

template <class T>
void schema_of(keel::schema& s) {
    if constexpr (value_shape<T>::optional) {
        s.nullable(&schema_of<typename T::value_type>);
    } else if constexpr (value_shape<T>::list) {
        s.array_of(&schema_of<typename T::value_type>);
    } else if constexpr (std::is_same_v<T, bool>) {
        s.type("boolean");
    } else if constexpr (std::is_integral_v<T>) {
        integer_schema(s, static_cast<std::int64_t>(std::numeric_limits<T>::min()),
                       static_cast<std::uint64_t>(std::numeric_limits<T>::max()), sizeof(T) * 8,
                       std::is_signed_v<T>);
    } else if constexpr (std::is_floating_point_v<T>) {
        s.type("number").format(sizeof(T) == 4 ? "float" : "double");
    } else if constexpr (has_describe<T>) {
        codec<T>::describe(s);
    } else if constexpr (mapped<T> && !has_write_json<T>) {
        s.type("string");  // std::string, and any codec's format() text as a JSON string
    } else if constexpr (keel_model<T>) {
        s.component(type_key<T>(), type_name<T>(), &model_schema<T>);
    } else if constexpr (string_keyed_map<T>) {
        s.map_of(&schema_of<typename T::mapped_type>);
    } else {
        // nlohmann::json, a codec with a JSON form of its own that it does not describe, or a
        // type read by nlohmann_json's from_json: any value, as far as keel knows
        s.any();
    }
}

}  // namespace keel::detail

namespace keel {

template <class T, auto... X>
void schema::property_of(std::string_view name) {
    property(name, &detail::schema_of<T>, !detail::value_shape<T>::optional, detail::rules_pointer<X...>());
}

}  // namespace keel
