// The non-template half of parameter binding (include/keel/detail/binders.hpp).

#include <keel/detail/binders.hpp>
#include <keel/header_map.hpp>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

namespace keel {

namespace detail {

bool check_text(std::string_view text, const std::vector<std::string>& loc,
                std::vector<field_error>& errors) {
    if (text.find('\0') == std::string_view::npos) return true;
    errors.push_back(
        {loc, "value contains a NUL character, which cannot be stored as text", "value_error.nul"});
    return false;
}

std::vector<std::string_view> query_values(const request& req, std::string_view name) {
    std::vector<std::string_view> found;
    for (const auto& [key, value] : req.query_params()) {
        if (key == name) found.emplace_back(value);
    }
    return found;
}

std::vector<std::string_view> header_values(const request& req, std::string_view name) {
    std::vector<std::string_view> found;
    for (const auto& [key, value] : req.headers()) {
        if (iequals(key, name)) found.emplace_back(value);
    }
    return found;
}

std::optional<std::string_view> path_value(const request& req, std::string_view name, std::size_t position,
                                           std::string& resolved_name) {
    const auto& params = req.path_params();
    if (name.empty()) {
        if (position >= params.size()) return std::nullopt;
        resolved_name = params[position].first;
        return std::string_view(params[position].second);
    }
    resolved_name = std::string(name);
    return req.path_param(name);
}

namespace {

bool is_json_media_type(std::string_view content_type) {
    const auto media = trim_whitespace(content_type.substr(0, content_type.find(';')));
    if (iequals(media, "application/json")) return true;
    // application/problem+json, application/vnd.api+json, ...
    return media.size() > 5 && iequals(media.substr(media.size() - 5), "+json") &&
           media.find('/') != std::string_view::npos;
}

// Every string (and key) holding a NUL, located under "body": PostgreSQL text and jsonb cannot
// store one, so the body is refused rather than cut short later. Iterative: a body nested
// thousands deep must not exhaust the stack.
void find_nul_strings(const nlohmann::json& body, std::vector<field_error>& errors) {
    struct pending {
        const nlohmann::json* value;
        std::size_t depth;  // how many path elements lead to it, "body" included
        std::string key;    // its key or index in its parent (unused for the body itself)
    };
    std::vector<pending> stack{{&body, 1, {}}};
    std::vector<std::string> loc{"body"};
    while (!stack.empty()) {
        auto item = std::move(stack.back());
        stack.pop_back();
        if (item.depth > 1) {
            loc.resize(item.depth - 1);
            loc.push_back(std::move(item.key));
        }
        const auto& value = *item.value;
        if (value.is_string()) {
            check_text(value.get_ref<const std::string&>(), loc, errors);
        } else if (value.is_object()) {
            for (const auto& [key, child] : value.items()) {
                if (key.find('\0') != std::string::npos) {
                    auto key_loc = loc;
                    key_loc.push_back(key);
                    check_text(key, key_loc, errors);
                    continue;
                }
                stack.push_back({&child, loc.size() + 1, key});
            }
        } else if (value.is_array()) {
            for (std::size_t i = 0; i < value.size(); ++i)
                stack.push_back({&value[i], loc.size() + 1, std::to_string(i)});
        }
    }
}

// "[json.exception.type_error.302] type must be string, but is number" -> "type must be ..."
std::string strip_json_prefix(std::string_view what) {
    if (!what.empty() && what.front() == '[') {
        const auto close = what.find("] ");
        if (close != std::string_view::npos) what.remove_prefix(close + 2);
    }
    return std::string(what);
}

}  // namespace

std::optional<json_document> parse_json_body(const request& req, bool body_optional, bool& present,
                                             std::vector<field_error>& errors) {
    const auto& text = req.body();
    present = !text.empty();
    if (!present) {
        if (!body_optional) add_missing({"body"}, errors);
        return std::nullopt;
    }
    if (auto content_type = req.header("Content-Type"); content_type && !is_json_media_type(*content_type)) {
        errors.push_back(
            {{"body"},
             "unsupported Content-Type '" + std::string(*content_type) + "': expected application/json",
             "value_error.content_type"});
        return std::nullopt;
    }
    nlohmann::json parsed;
    try {
        parsed = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        errors.push_back(
            {{"body", std::to_string(e.byte)}, strip_json_prefix(e.what()), "value_error.jsondecode"});
        return std::nullopt;
    } catch (const nlohmann::json::exception& e) {  // e.g. out_of_range.406: a number too large for a double
        errors.push_back({{"body"}, strip_json_prefix(e.what()), "value_error.jsondecode"});
        return std::nullopt;
    }
    // JSON text carries a NUL only as the escape \u0000 (a raw one does not parse): without
    // one, there is nothing to look for.
    if (text.find("\\u0000") != std::string::npos) {
        const auto before = errors.size();
        find_nul_strings(parsed, errors);
        if (errors.size() != before) return std::nullopt;
    }
    return json_document(std::move(parsed));
}

void add_json_conversion_error(int id, const char* what, std::vector<field_error>& errors) {
    const std::string msg = strip_json_prefix(what);
    // nlohmann names the missing key but not the path of a wrongly typed value.
    if (id == 403) {  // out_of_range.403: key 'email' not found
        const auto open = msg.find('\'');
        const auto close = msg.rfind('\'');
        if (open != std::string::npos && close > open) {
            add_missing({"body", msg.substr(open + 1, close - open - 1)}, errors);
            return;
        }
    }
    const bool is_type_error = id >= 300 && id < 400;
    errors.push_back({{"body"}, msg, is_type_error ? "type_error" : "value_error"});
}

}  // namespace detail
}  // namespace keel
