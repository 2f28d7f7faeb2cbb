#include <keel/header_map.hpp>
#include <keel/param_parser.hpp>

namespace keel {

std::optional<bool> param_parser<bool>::parse(std::string_view text, parse_failure& why) {
    // The spellings pydantic accepts.
    static constexpr std::string_view yes[] = {"true", "1", "yes", "on", "y", "t"};
    static constexpr std::string_view no[] = {"false", "0", "no", "off", "n", "f"};
    for (auto word : yes) {
        if (iequals(text, word)) return true;
    }
    for (auto word : no) {
        if (iequals(text, word)) return false;
    }
    why = {"value could not be parsed to a boolean", "type_error.bool"};
    return std::nullopt;
}

}  // namespace keel
