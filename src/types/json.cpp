#include <keel/json.hpp>

namespace keel {

std::optional<nlohmann::json> codec<nlohmann::json>::parse(std::string_view text, parse_failure& why) {
    try {
        return nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        why = {std::string("value is not valid JSON: ") + e.what(), "value_error.jsondecode"};
        return std::nullopt;
    }
}

void codec<nlohmann::json>::format(std::string& out, const nlohmann::json& value) {
    // Invalid UTF-8 in a string is replaced, not thrown on halfway through a statement.
    out += value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace keel
