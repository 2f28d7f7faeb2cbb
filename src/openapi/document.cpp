#include "openapi/document.hpp"

#include "di/service_registry.hpp"
#include "http/route_table.hpp"
#include "openapi/schema_document.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string_view>

namespace keel::detail {

namespace {

using nlohmann::json;

// The schemas every route that binds a request value can answer with (a 422), and keel's
// error body, named as FastAPI names them so that clients written for both read the same.
const std::vector<std::string> keel_schema_names = {"HTTPValidationError", "ValidationError", "HTTPError"};

json keel_components() {
    return {
        {"ValidationError",
         {{"type", "object"},
          {"required", {"loc", "msg", "type"}},
          {"properties",
           {{"loc",
             {{"type", "array"}, {"items", {{"anyOf", {{{"type", "string"}}, {{"type", "integer"}}}}}}}},
            {"msg", {{"type", "string"}}},
            {"type", {{"type", "string"}}}}}}},
        {"HTTPValidationError",
         {{"type", "object"},
          {"properties",
           {{"detail",
             {{"type", "array"}, {"items", {{"$ref", "#/components/schemas/ValidationError"}}}}}}}}},
        {"HTTPError",
         {{"type", "object"}, {"required", {"detail"}}, {"properties", {{"detail", {{"type", "string"}}}}}}},
    };
}

json json_content(json schema) {
    return {{"application/json", {{"schema", std::move(schema)}}}};
}

// A parameter object; a constraint's description is also the parameter's, where Swagger UI shows it.
json parameter_object(const std::string& name, const char* in, bool required, json schema) {
    json parameter = {{"name", name}, {"in", in}, {"required", required}};
    if (const auto described = schema.find("description"); described != schema.end())
        parameter["description"] = *described;
    parameter["schema"] = std::move(schema);
    return parameter;
}

json error_content(const std::string& component) {
    return json_content({{"$ref", "#/components/schemas/" + component}});
}

// "get" for GET: OpenAPI's path item keys, and the start of a derived operation id.
std::string lower_case_method(method m) {
    std::string name(to_string(m));
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    return name;
}

// "get_users_id" for GET /users/{id}: stable while the route is.
std::string derived_operation_id(method m, const std::string& path) {
    std::string id = lower_case_method(m);
    bool separated = false;
    for (const unsigned char c : path) {
        if (std::isalnum(c)) {
            if (!separated) id += '_';
            separated = true;
            id += static_cast<char>(std::tolower(c));
        } else {
            separated = false;
        }
    }
    if (path == "/" || path.empty()) id += "_root";
    return id;
}

// One operation's request values, found by walking its dependency graph: the handler's own
// parameters, its providers' and its request-scoped services' (each callable once).
class operation_values {
public:
    using scheme_map = std::map<std::string_view, const security_scheme_doc*>;

    operation_values(const service_registry& services, schema::document& schemas, scheme_map& schemes)
        : services_(services), schemas_(schemas), schemes_(schemes) {}

    void visit(const std::vector<dependency_node>& nodes) {
        std::size_t path_position = 0;  // an unnamed path<> binds the n-th placeholder
        for (const auto& node : nodes) {
            switch (node.kind) {
                case node_kind::request_value:
                    if (node.doc.in == value_location::path) {
                        add_path(node, path_position++);
                    } else {
                        add_value(node);
                    }
                    break;
                case node_kind::provider:
                    if (node.children && visited_.insert(node.key).second) visit(node.children());
                    break;
                case node_kind::service:
                    if (const auto* service = services_.find(node.key);
                        service && visited_.insert(node.key).second)
                        visit(service->children);
                    break;
            }
        }
    }

    bool binds_anything = false;
    std::map<std::size_t, json> positional_path;  // by position
    std::map<std::string, json> named_path;
    json parameters = json::array();
    json request_body;
    // The security schemes the operation's credentials parameters read, with the scopes its
    // requirements add: all of them are required at once (one Security Requirement Object).
    std::map<std::string_view, std::set<std::string_view>> security;
    bool requires_scopes = false;

private:
    void add_security(const security_doc& doc) {
        schemes_.emplace(doc.scheme->name, doc.scheme);
        auto& scopes = security[doc.scheme->name];
        for (std::size_t i = 0; i < doc.scope_count; ++i) scopes.insert(doc.scopes[i]);
        requires_scopes = requires_scopes || doc.scope_count > 0;
    }

    void add_path(const dependency_node& node, std::size_t position) {
        binds_anything = true;
        auto schema = schemas_.write(node.doc.schema, node.doc.rules);
        if (node.name.empty()) {
            positional_path.emplace(position, std::move(schema));
        } else {
            named_path.emplace(std::string(node.name), std::move(schema));
        }
    }

    void add_value(const dependency_node& node) {
        if (node.doc.in == value_location::none) return;  // keel::request&
        if (node.doc.in == value_location::security) return add_security(node.doc.security);
        binds_anything = true;
        if (node.doc.in == value_location::body) {
            request_body = {{"required", node.doc.required},
                            {"content", json_content(schemas_.write(node.doc.schema))}};
            return;
        }
        const char* in = node.doc.in == value_location::query ? "query" : "header";
        const std::string name(node.name);
        if (!seen_.insert(std::string(in) + '\n' + name).second) return;  // two callables read the same value
        auto parameter =
            parameter_object(name, in, node.doc.required, schemas_.write(node.doc.schema, node.doc.rules));
        if (node.doc.default_json) {
            std::string text;
            node.doc.default_json(text);
            parameter["schema"]["default"] = json::parse(text);
        }
        parameters.push_back(std::move(parameter));
    }

    const service_registry& services_;
    schema::document& schemas_;
    scheme_map& schemes_;
    std::set<std::uintptr_t> visited_;
    std::set<std::string> seen_;
};

json success_response(const route_spec& spec, schema::document& schemas) {
    const auto& handler = *spec.handler;
    json out = {{"description", "Successful Response"}};
    if (handler.result_schema) {
        out["content"] = json_content(schemas.write(handler.result_schema));
    } else if (handler.returns_response) {
        if (!spec.doc.media_type.empty()) out["content"] = {{spec.doc.media_type, json::object()}};
    } else if (!is_bodiless(spec.success_status)) {
        out["content"] = json_content({{"type", "null"}});  // a void handler answers `null`
    }
    return out;
}

json security_scheme_object(const security_scheme_doc& scheme) {
    json out = {{"type", scheme.type}};
    if (!scheme.scheme.empty()) out["scheme"] = scheme.scheme;
    if (!scheme.bearer_format.empty()) out["bearerFormat"] = scheme.bearer_format;
    if (!scheme.in.empty()) out["in"] = scheme.in;
    if (!scheme.parameter.empty()) out["name"] = scheme.parameter;
    return out;
}

json operation(const route_spec& spec, const service_registry& services, schema::document& schemas,
               operation_values::scheme_map& schemes) {
    const auto& doc = spec.doc;
    json op = json::object();
    if (!doc.tags.empty()) op["tags"] = doc.tags;
    if (!doc.summary.empty()) op["summary"] = doc.summary;
    if (!doc.description.empty()) op["description"] = doc.description;
    if (doc.deprecated) op["deprecated"] = true;

    operation_values values(services, schemas, schemes);
    values.visit(spec.handler->dependencies);
    json parameters = json::array();
    std::size_t position = 0;
    for (const auto& segment : parse_template(spec.path)) {
        if (!segment.is_param) continue;
        json schema = {{"type", "string"}};  // a placeholder no path<> reads
        if (auto named = values.named_path.find(segment.text); named != values.named_path.end()) {
            schema = named->second;
        } else if (auto positional = values.positional_path.find(position);
                   positional != values.positional_path.end()) {
            schema = positional->second;
        }
        ++position;
        parameters.push_back(parameter_object(segment.text, "path", true, std::move(schema)));
    }
    for (auto& p : values.parameters) parameters.push_back(std::move(p));
    if (!parameters.empty()) op["parameters"] = std::move(parameters);
    if (!values.request_body.is_null()) op["requestBody"] = std::move(values.request_body);
    if (!values.security.empty()) {
        json requirement = json::object();
        for (const auto& [name, scopes] : values.security)
            requirement[std::string(name)] = std::vector<std::string>(scopes.begin(), scopes.end());
        op["security"] = json::array({std::move(requirement)});
    }

    json responses = json::object();
    responses[std::to_string(to_int(spec.success_status))] = success_response(spec, schemas);
    if (values.binds_anything) {
        responses["422"] = {{"description", "Validation Error"},
                            {"content", error_content("HTTPValidationError")}};
    }
    if (!values.security.empty()) {
        responses["401"] = {{"description", "Not authenticated"}, {"content", error_content("HTTPError")}};
        if (values.requires_scopes)
            responses["403"] = {{"description", "Not enough permissions"},
                                {"content", error_content("HTTPError")}};
    }
    for (const auto& declared : doc.responses) {
        json body =
            declared.schema ? json_content(schemas.write(declared.schema)) : error_content("HTTPError");
        responses[std::to_string(to_int(declared.code))] = {{"description", declared.description},
                                                            {"content", body}};
    }
    op["responses"] = std::move(responses);
    return op;
}

json paths(const std::vector<std::shared_ptr<route_spec>>& routes, const service_registry& services,
           schema::document& schemas, operation_values::scheme_map& schemes) {
    json out = json::object();
    std::set<std::string> ids;
    for (const auto& spec : routes) {
        if (!spec->doc.in_schema) continue;
        auto op = operation(*spec, services, schemas, schemes);
        auto id = spec->doc.operation_id.empty() ? derived_operation_id(spec->method, spec->path)
                                                 : spec->doc.operation_id;
        const auto base = id;
        for (int n = 2; !ids.insert(id).second; ++n) id = base + '_' + std::to_string(n);
        op["operationId"] = id;
        out[spec->path.empty() ? "/" : spec->path][lower_case_method(spec->method)] = std::move(op);
    }
    return out;
}

}  // namespace

std::string openapi_document(const std::vector<std::shared_ptr<route_spec>>& routes,
                             const service_registry& services, const openapi_options& options) {
    schema::document schemas;
    operation_values::scheme_map schemes;
    paths(routes, services, schemas, schemes);  // the first pass finds every named schema ...
    schemas.resolve_names(keel_schema_names);
    json doc = {{"openapi", "3.1.0"}, {"info", {{"title", options.title}, {"version", options.version}}}};
    if (!options.description.empty()) doc["info"]["description"] = options.description;
    if (!options.servers.empty()) {
        doc["servers"] = json::array();
        for (const auto& url : options.servers) doc["servers"].push_back({{"url", url}});
    }
    doc["paths"] = paths(routes, services, schemas, schemes);  // ... the second writes them with their names
    auto components = keel_components();
    components.update(schemas.components());
    doc["components"] = {{"schemas", std::move(components)}};
    if (!schemes.empty()) {
        json security_schemes = json::object();
        for (const auto& [name, scheme] : schemes)
            security_schemes[std::string(name)] = security_scheme_object(*scheme);
        doc["components"]["securitySchemes"] = std::move(security_schemes);
    }
    return doc.dump(2);
}

}  // namespace keel::detail
