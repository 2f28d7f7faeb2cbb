#pragma once

// JSON in tests, compiled once in keel_testing: nlohmann's parser and serializer are large
// templates, and a test file that instantiates them pays seconds of compile time for each.

#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace keel::testing {

/// Parses JSON text; throws nlohmann::json::parse_error when it is not JSON.
nlohmann::json parse_json(std::string_view text);

/// The compact text of a JSON value (what nlohmann's dump() writes).
std::string json_text(const nlohmann::json& value);

}  // namespace keel::testing

namespace nlohmann {

/// GoogleTest prints a JSON value through this when an assertion on it fails: found by
/// argument-dependent lookup, it takes the place of nlohmann's inline operator<<.
void PrintTo(const json& value, std::ostream* os);

}  // namespace nlohmann
