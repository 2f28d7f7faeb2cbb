#pragma once

// keel::schema: how a type describes its JSON Schema in the app's OpenAPI document. keel's own
// types describe themselves; a type with a codec of its own can too, with one member:
// ```
// template <>
// struct keel::codec<color> {
//     ...
//     static void describe(keel::schema& s) { s.type("string").pattern("^#[0-9a-f]{6}$"); }
// };
// ```
// Without it, a codec's type is documented as a string (its JSON form unless it has
// write_json, which is documented as any value).

#include <cstddef>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string_view>

namespace keel {

class schema;

namespace detail {
struct field_rules;
}

/// Writes one type's schema; keel instantiates one per type a route uses.
using schema_writer = void (*)(schema&);

/// One JSON Schema object being written. Its keywords are the subset of JSON Schema 2020-12
/// (OpenAPI 3.1's dialect) that keel's types need.
class schema {
public:
    /// Where the document builder keeps its state (named components, their names).
    class document;

    schema(document& doc, nlohmann::json& target) noexcept : doc_(&doc), json_(&target) {}

    schema& type(std::string_view name);  ///< "string", "integer", "number", "boolean", ...
    schema& format(std::string_view name);
    schema& content_encoding(std::string_view name);  ///< "base64"
    schema& pattern(std::string_view regex);
    schema& minimum(std::int64_t bound);
    schema& maximum(std::int64_t bound);
    schema& maximum(std::uint64_t bound);
    schema& description(std::string_view text);
    /// A string that is one of `names`.
    schema& one_of_names(const std::string_view* names, std::size_t count);
    /// Any JSON value: writes nothing.
    schema& any() noexcept { return *this; }

    /// An array whose items are `element`.
    void array_of(schema_writer element);
    /// `inner`, or null.
    void nullable(schema_writer inner);
    /// An object whose members are all `value`.
    void map_of(schema_writer value);
    /// A named schema, written once into components/schemas and referenced from here.
    /// `key` identifies the C++ type; `cpp_name` names it (collisions are resolved by the
    /// document: every clashing type gets its namespace-qualified name).
    void component(std::uintptr_t key, std::string_view cpp_name, schema_writer body);
    /// An object member (inside a component's body): models describe their fields with it,
    /// with the field's constraints if it has any.
    void property(std::string_view name, schema_writer value, bool required,
                  const detail::field_rules* rules = nullptr);
    /// The member `name` of type T, with constraints X: required unless T is a std::optional
    /// (<keel/detail/schema_of.hpp>).
    template <class T, auto... X>
    void property_of(std::string_view name);

private:
    document* doc_;
    nlohmann::json* json_;
};

}  // namespace keel
