#include <keel/testing/json.hpp>

#include <ostream>

namespace keel::testing {

nlohmann::json parse_json(std::string_view text) {
    return nlohmann::json::parse(text);
}

std::string json_text(const nlohmann::json& value) {
    return value.dump();
}

}  // namespace keel::testing

namespace nlohmann {

void PrintTo(const json& value, std::ostream* os) {
    *os << value.dump();
}

}  // namespace nlohmann
