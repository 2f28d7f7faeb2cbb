#pragma once

// `jsonb` and `json` columns and parameters as nlohmann::json, and nlohmann::json fields in a
// KEEL_MODEL (any JSON value, as it is). This header includes nlohmann_json's full header, which
// <keel/keel.hpp> does not: include it where you use nlohmann::json values.

#include <keel/codec.hpp>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace keel {

template <>
struct codec<nlohmann::json> {
    static std::optional<nlohmann::json> parse(std::string_view text, parse_failure& why);
    static void format(std::string& out, const nlohmann::json& value);
    static void write_json(std::string& out, const nlohmann::json& value) { format(out, value); }
    static void describe(schema&) {}  // any JSON value
};

}  // namespace keel
