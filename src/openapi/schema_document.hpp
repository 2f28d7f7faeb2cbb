#pragma once

// keel::schema::document: the named schemas (components) of one OpenAPI document, and the
// names they get. Private to keel.

#include <keel/schema.hpp>

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace keel {

class schema::document {
public:
    /// The schema `writer` writes, with each named component replaced by its $ref, and the
    /// declared constraints when there are any. A pattern RE2 cannot read throws
    /// std::invalid_argument: the app refuses to build.
    nlohmann::json write(schema_writer writer, const detail::field_rules* rules = nullptr);

    /// Called by schema::component: the $ref of component `key`, writing its body on first use.
    nlohmann::json reference(std::uintptr_t key, std::string_view cpp_name, schema_writer body);

    /// Gives every component seen so far its name: its C++ name without namespaces, or, where
    /// two types (or one of keel's own schemas) share that, the namespace-qualified name.
    /// The next writes use these names; call it between a first pass and the pass that counts.
    void resolve_names(const std::vector<std::string>& reserved);

    /// components/schemas: every component written since the last resolve_names.
    nlohmann::json components() const;

private:
    struct component_entry {
        std::string cpp_name;
        std::string name;  // empty until resolve_names
        nlohmann::json body;
        bool written = false;
    };
    std::map<std::uintptr_t, component_entry> components_;
};

}  // namespace keel
