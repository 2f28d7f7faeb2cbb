#pragma once

// What a request value (path<>, query<>, header<>, body<>) tells the OpenAPI document: where it
// is read from, its schema, whether it is required and its default. Filled by the binders,
// read once when the app builds its document.

#include <keel/detail/field_rules.hpp>
#include <keel/schema.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace keel::detail {

enum class value_location { none, path, query, header, body, security };

// An OpenAPI security scheme (components.securitySchemes) that a credential parameter reads,
// with the scopes a requirement adds to it. Static data, named by `name`.
struct security_scheme_doc {
    std::string_view name;           // the key in components.securitySchemes: "bearerAuth"
    std::string_view type;           // "http", "apiKey"
    std::string_view scheme;         // http: "bearer", "basic"
    std::string_view bearer_format;  // http bearer: "JWT"
    std::string_view in;             // apiKey: "header", "query", "cookie"
    std::string_view parameter;      // apiKey: the header, query parameter or cookie name
};

struct security_doc {
    const security_scheme_doc* scheme = nullptr;
    const std::string_view* scopes = nullptr;  // required scopes (OpenAPI 3.1: roles for http schemes)
    std::size_t scope_count = 0;
};

struct value_doc {
    value_location in = value_location::none;
    keel::schema_writer schema = nullptr;
    bool required = false;
    void (*default_json)(std::string& out) = nullptr;  // writes the default as JSON, if it has one
    const field_rules* rules = nullptr;                // its constraints, if it has any
    security_doc security{};                           // value_location::security: what it requires
};

}  // namespace keel::detail
