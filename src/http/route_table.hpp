#pragma once

// The compiled routes of a built app: a trie over path segments, matched static-first with
// backtracking, so `/users/me` beats `/users/{id}` and `/users/me/posts` still reaches
// `/users/{id}/posts`.

#include <keel/method.hpp>
#include <keel/route.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace keel::detail {

struct compiled_route {
    std::shared_ptr<const route_spec> spec;
    std::vector<std::string> param_names;  // placeholders of the template, in order
    std::uint32_t index = 0;               // in the order added: request::route_index()
};

struct route_match {
    const compiled_route* route = nullptr;  // null: no route for this method
    bool path_matched = false;              // some route has this path (405 rather than 404)
    std::string allow;                      // for 405: "GET, HEAD, POST"
    std::vector<std::string> values;        // decoded parameter values, in template order
};

class route_table {
public:
    route_table();
    ~route_table();
    route_table(route_table&&) noexcept;
    route_table& operator=(route_table&&) noexcept;

    /// Adds a route; returns an error message for a conflict or a bad handler/template pair.
    std::string add(std::shared_ptr<const route_spec> spec);
    route_match match(method m, std::string_view path) const;
    /// The routes added, in order (compiled_route::index is the place in this list).
    const std::vector<std::shared_ptr<const route_spec>>& specs() const noexcept { return specs_; }

private:
    static constexpr std::size_t method_count = 8;
    struct node {
        std::vector<std::pair<std::string, std::unique_ptr<node>>> statics;
        std::unique_ptr<node> param;
        std::array<std::unique_ptr<compiled_route>, method_count> routes;
        bool has_routes() const noexcept;
    };
    bool match_from(const node& n, const std::vector<std::string_view>& segments, std::size_t index, method m,
                    std::vector<std::string_view>& values, route_match& out) const;

    std::unique_ptr<node> root_;
    std::vector<std::shared_ptr<const route_spec>> specs_;
};

/// Splits a route template into segments; throws std::invalid_argument when malformed.
struct template_segment {
    bool is_param = false;
    std::string text;  // the literal, or the parameter's name
};
std::vector<template_segment> parse_template(std::string_view path);

}  // namespace keel::detail
