#include "http/route_table.hpp"

#include "http/url.hpp"

#include <algorithm>
#include <stdexcept>

namespace keel::detail {

namespace {

bool is_identifier(std::string_view name) {
    if (name.empty()) return false;
    const auto ok_first = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
    if (!ok_first(name.front())) return false;
    return std::all_of(name.begin(), name.end(),
                       [&](char c) { return ok_first(c) || (c >= '0' && c <= '9'); });
}

std::vector<std::string_view> split_path(std::string_view path) {
    std::vector<std::string_view> parts;
    if (path == "/") return parts;  // the root has no segments
    path.remove_prefix(1);          // both the template and request paths start with '/'
    for (;;) {
        const auto slash = path.find('/');
        parts.push_back(path.substr(0, slash));
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash + 1);
    }
    return parts;
}

std::string describe(const route_spec& spec) {
    return std::string(to_string(spec.method)) + ' ' + spec.path;
}

}  // namespace

std::vector<template_segment> parse_template(std::string_view path) {
    if (path.empty() || path.front() != '/') {
        throw std::invalid_argument("keel: route path '" + std::string(path) + "' must start with '/'");
    }
    std::vector<template_segment> segments;
    for (auto part : split_path(path)) {
        const bool has_brace = part.find_first_of("{}") != std::string_view::npos;
        if (!has_brace) {
            segments.push_back({false, std::string(part)});
            continue;
        }
        if (part.size() < 3 || part.front() != '{' || part.back() != '}' ||
            !is_identifier(part.substr(1, part.size() - 2))) {
            throw std::invalid_argument("keel: route path '" + std::string(path) + "': segment '" +
                                        std::string(part) +
                                        "' must be a literal or a whole {name} with name an identifier");
        }
        const std::string name(part.substr(1, part.size() - 2));
        for (const auto& s : segments) {
            if (s.is_param && s.text == name) {
                throw std::invalid_argument("keel: route path '" + std::string(path) + "' uses {" + name +
                                            "} twice");
            }
        }
        segments.push_back({true, name});
    }
    return segments;
}

bool route_table::node::has_routes() const noexcept {
    return std::any_of(routes.begin(), routes.end(), [](const auto& r) { return r != nullptr; });
}

route_table::route_table() : root_(std::make_unique<node>()) {}
route_table::~route_table() = default;
route_table::route_table(route_table&&) noexcept = default;
route_table& route_table::operator=(route_table&&) noexcept = default;

std::string route_table::add(std::shared_ptr<const route_spec> spec) {
    const auto segments = parse_template(spec->path);
    auto compiled = std::make_unique<compiled_route>();
    for (const auto& s : segments) {
        if (s.is_param) compiled->param_names.push_back(s.text);
    }

    // The handler's path<> parameters must exist in the template.
    std::size_t position = 0;
    for (const auto& declared : spec->handler->path_params) {
        if (declared.empty()) {
            if (position >= compiled->param_names.size()) {
                return describe(*spec) + ": the handler's path parameter #" + std::to_string(position + 1) +
                       " has no {placeholder} in the route (it has " +
                       std::to_string(compiled->param_names.size()) + ")";
            }
        } else if (std::find(compiled->param_names.begin(), compiled->param_names.end(), declared) ==
                   compiled->param_names.end()) {
            std::string problem = describe(*spec);
            problem += ": the handler asks for path parameter \"" + declared + "\" but the route has no {";
            problem += declared;
            problem += '}';
            return problem;
        }
        ++position;
    }

    node* at = root_.get();
    for (const auto& s : segments) {
        if (s.is_param) {
            if (!at->param) at->param = std::make_unique<node>();
            at = at->param.get();
            continue;
        }
        auto it = std::find_if(at->statics.begin(), at->statics.end(),
                               [&](const auto& e) { return e.first == s.text; });
        if (it == at->statics.end()) {
            at->statics.emplace_back(s.text, std::make_unique<node>());
            it = std::prev(at->statics.end());
        }
        at = it->second.get();
    }
    auto& slot = at->routes[static_cast<std::size_t>(spec->method)];
    if (slot)
        return describe(*spec) + " conflicts with " + describe(*slot->spec) +
               " (same method, same path shape)";
    compiled->index = static_cast<std::uint32_t>(specs_.size());
    specs_.push_back(spec);
    compiled->spec = std::move(spec);
    slot = std::move(compiled);
    return {};
}

bool route_table::match_from(const node& n, const std::vector<std::string_view>& segments, std::size_t index,
                             method m, std::vector<std::string_view>& values, route_match& out) const {
    if (index == segments.size()) {
        if (!n.has_routes()) return false;
        const auto* found = n.routes[static_cast<std::size_t>(m)].get();
        if (!found && m == method::head) found = n.routes[static_cast<std::size_t>(method::get)].get();
        if (found) {
            out.route = found;
            out.values.assign(values.begin(), values.end());
            return true;
        }
        if (!out.path_matched) {  // the first (most static) path match names the allowed methods
            out.path_matched = true;
            for (std::size_t i = 0; i < method_count; ++i) {
                if (!n.routes[i]) continue;
                if (!out.allow.empty()) out.allow += ", ";
                out.allow += to_string(static_cast<method>(i));
                if (static_cast<method>(i) == method::get &&
                    !n.routes[static_cast<std::size_t>(method::head)]) {
                    out.allow += ", HEAD";
                }
            }
        }
        return false;
    }
    const auto segment = segments[index];
    for (const auto& [text, child] : n.statics) {
        if (text == segment && match_from(*child, segments, index + 1, m, values, out)) return true;
    }
    if (n.param && !segment.empty()) {
        values.push_back(segment);
        if (match_from(*n.param, segments, index + 1, m, values, out)) return true;
        values.pop_back();
    }
    return false;
}

route_match route_table::match(method m, std::string_view path) const {
    route_match out;
    if (path.empty() || path.front() != '/') return out;
    std::vector<std::string_view> segments = split_path(path);
    std::vector<std::string> decoded;  // owns decoded segments; only paths with escapes need it
    if (path.find('%') != std::string_view::npos) {
        decoded.reserve(segments.size());
        for (auto& segment : segments) {
            auto d = percent_decode(segment, false);
            decoded.push_back(d ? std::move(*d) : std::string(segment));
            segment = decoded.back();
        }
    }
    std::vector<std::string_view> values;
    if (match_from(*root_, segments, 0, m, values, out)) out.path_matched = true;
    return out;
}

}  // namespace keel::detail
