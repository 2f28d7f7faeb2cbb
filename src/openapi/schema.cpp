#include <keel/schema.hpp>

#include <keel/detail/field_rules.hpp>

#include "openapi/schema_document.hpp"

#include <algorithm>
#include <cctype>
#include <set>
#include <string>
#include <vector>

namespace keel {

schema& schema::type(std::string_view name) {
    (*json_)["type"] = name;
    return *this;
}

schema& schema::format(std::string_view name) {
    (*json_)["format"] = name;
    return *this;
}

schema& schema::content_encoding(std::string_view name) {
    (*json_)["contentEncoding"] = name;
    return *this;
}

schema& schema::pattern(std::string_view regex) {
    (*json_)["pattern"] = regex;
    return *this;
}

schema& schema::minimum(std::int64_t bound) {
    (*json_)["minimum"] = bound;
    return *this;
}

schema& schema::maximum(std::int64_t bound) {
    (*json_)["maximum"] = bound;
    return *this;
}

schema& schema::maximum(std::uint64_t bound) {
    (*json_)["maximum"] = bound;
    return *this;
}

schema& schema::description(std::string_view text) {
    (*json_)["description"] = text;
    return *this;
}

schema& schema::one_of_names(const std::string_view* names, std::size_t count) {
    auto& values = (*json_)["enum"] = nlohmann::json::array();
    for (std::size_t i = 0; i < count; ++i) values.push_back(names[i]);
    return *this;
}

void schema::array_of(schema_writer element) {
    (*json_)["type"] = "array";
    (*json_)["items"] = doc_->write(element);
}

void schema::nullable(schema_writer inner) {
    // JSON Schema 2020-12 has no "nullable": the value is the inner schema or null.
    (*json_)["anyOf"] = nlohmann::json::array({doc_->write(inner), {{"type", "null"}}});
}

void schema::map_of(schema_writer value) {
    (*json_)["type"] = "object";
    (*json_)["additionalProperties"] = doc_->write(value);
}

void schema::component(std::uintptr_t key, std::string_view cpp_name, schema_writer body) {
    *json_ = doc_->reference(key, cpp_name, body);
}

void schema::property(std::string_view name, schema_writer value, bool required,
                      const detail::field_rules* rules) {
    (*json_)["properties"][std::string(name)] = doc_->write(value, rules);
    if (required) (*json_)["required"].push_back(name);
}

namespace {

nlohmann::json number_json(const detail::number_limit& limit) {
    return limit.integral ? nlohmann::json(limit.integer) : nlohmann::json(limit.real);
}

// A bound the type already has (uint8's 0..255) stays unless the constraint is tighter.
void tighten(nlohmann::json& target, const char* keyword, const detail::number_limit& limit, bool lower) {
    auto value = number_json(limit);
    if (const auto found = target.find(keyword); found != target.end()) {
        const bool tighter =
            lower ? value.get<double>() > found->get<double>() : value.get<double>() < found->get<double>();
        if (!tighter) return;
    }
    target[keyword] = std::move(value);
}

void add_example(nlohmann::json& out, const detail::field_rules& rules) {
    using detail::example_kind;
    nlohmann::json example;
    switch (rules.example) {
        case example_kind::none:
            return;
        case example_kind::integer:
            example = rules.example_number.integer;
            break;
        case example_kind::real:
            example = rules.example_number.real;
            break;
        case example_kind::boolean:
            example = rules.example_number.integer != 0;
            break;
        case example_kind::text:
            example = rules.example_text;
            break;
    }
    out["examples"] = nlohmann::json::array({std::move(example)});
}

// Constraints go where pydantic puts them: on the value's own schema (inside the anyOf of a
// nullable one), the description and example on the whole.
void apply_rules(nlohmann::json& out, const detail::field_rules& rules) {
    auto* value = &out;
    if (const auto any_of = out.find("anyOf"); any_of != out.end() && any_of->size() == 2)
        value = &(*any_of)[0];
    auto& target = *value;
    if (rules.gt.set) target["exclusiveMinimum"] = number_json(rules.gt.limit);
    if (rules.ge.set) tighten(target, "minimum", rules.ge.limit, true);
    if (rules.lt.set) target["exclusiveMaximum"] = number_json(rules.lt.limit);
    if (rules.le.set) tighten(target, "maximum", rules.le.limit, false);
    if (rules.multiple_of.set) target["multipleOf"] = number_json(rules.multiple_of.limit);
    if (rules.min_length > 0) target["minLength"] = rules.min_length;
    if (rules.max_length != SIZE_MAX) target["maxLength"] = rules.max_length;
    if (!rules.pattern.empty()) {
        detail::compile_pattern(rules.pattern);  // refused now, not at the first request
        target["pattern"] = rules.pattern;
    }
    if (rules.min_items > 0) target["minItems"] = rules.min_items;
    if (rules.max_items != SIZE_MAX) target["maxItems"] = rules.max_items;
    if (!rules.description.empty()) out["description"] = rules.description;
    add_example(out, rules);
}

}  // namespace

nlohmann::json schema::document::write(schema_writer writer, const detail::field_rules* rules) {
    auto out = nlohmann::json::object();
    schema s(*this, out);
    writer(s);
    if (rules) apply_rules(out, *rules);
    return out;
}

nlohmann::json schema::document::reference(std::uintptr_t key, std::string_view cpp_name,
                                           schema_writer body) {
    auto& entry = components_[key];
    if (!entry.written) {  // before the body: a model that contains itself refers to itself
        entry.written = true;
        entry.cpp_name = cpp_name;
        entry.body = write(body);
    }
    return {{"$ref", "#/components/schemas/" + (entry.name.empty() ? entry.cpp_name : entry.name)}};
}

namespace {

// "bank::{anonymous}::page<bank::user>" -> "bank.page_bank.user_": component names may hold only
// letters, digits, '.', '-' and '_'.
std::string component_name(std::string_view cpp_name, bool qualified) {
    std::string text(cpp_name);
    for (std::string_view anonymous : {"{anonymous}::", "(anonymous namespace)::"}) {
        for (auto at = text.find(anonymous); at != std::string::npos; at = text.find(anonymous))
            text.erase(at, anonymous.size());
    }
    if (!qualified) {  // the last name outside any template argument list
        int depth = 0;
        std::size_t start = 0;
        for (std::size_t i = 0; i < text.size(); ++i) {
            if (text[i] == '<') ++depth;
            if (text[i] == '>') --depth;
            if (depth == 0 && text.compare(i, 2, "::") == 0) start = i + 2;
        }
        text.erase(0, start);
    }
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (text.compare(i, 2, "::") == 0) {
            out += '.';
            ++i;
        } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.') {
            out += c;
        } else if (c != ' ') {
            out += '_';
        }
    }
    return out;
}

}  // namespace

void schema::document::resolve_names(const std::vector<std::string>& reserved) {
    std::multiset<std::string> short_names(reserved.begin(), reserved.end());
    for (const auto& [key, entry] : components_) short_names.insert(component_name(entry.cpp_name, false));
    std::set<std::string> taken(reserved.begin(), reserved.end());
    std::vector<component_entry*> by_name;  // suffixes, where needed, follow the C++ names' order
    for (auto& [key, entry] : components_) by_name.push_back(&entry);
    std::stable_sort(by_name.begin(), by_name.end(),
                     [](const auto* a, const auto* b) { return a->cpp_name < b->cpp_name; });
    for (auto* each : by_name) {
        auto& entry = *each;
        auto name = component_name(entry.cpp_name, false);
        if (short_names.count(name) > 1) name = component_name(entry.cpp_name, true);
        const auto base = name;
        for (int n = 2; taken.count(name); ++n) name = base + '_' + std::to_string(n);
        taken.insert(name);
        entry.name = std::move(name);
        entry.written = false;
    }
}

nlohmann::json schema::document::components() const {
    auto out = nlohmann::json::object();
    for (const auto& [key, entry] : components_) {
        if (entry.written) out[entry.name.empty() ? entry.cpp_name : entry.name] = entry.body;
    }
    return out;
}

}  // namespace keel

namespace keel::detail {

void integer_schema(schema& s, std::int64_t min, std::uint64_t max, int bits, bool is_signed) {
    s.type("integer");
    if (is_signed && (bits == 32 || bits == 64)) {
        s.format(bits == 32 ? "int32" : "int64");  // OpenAPI's formats say the range
        return;
    }
    s.minimum(min).maximum(max);
}

}  // namespace keel::detail
