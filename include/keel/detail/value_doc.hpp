#pragma once

// What a request value (path<>, query<>, header<>, body<>) tells the OpenAPI document: where it
// is read from, its schema, whether it is required and its default. Filled by the binders,
// read once when the app builds its document.

#include <keel/detail/field_rules.hpp>
#include <keel/schema.hpp>

#include <string>

namespace keel::detail {

enum class value_location { none, path, query, header, body };

struct value_doc {
    value_location in = value_location::none;
    keel::schema_writer schema = nullptr;
    bool required = false;
    void (*default_json)(std::string& out) = nullptr;  // writes the default as JSON, if it has one
    const field_rules* rules = nullptr;                // its constraints, if it has any
};

}  // namespace keel::detail
