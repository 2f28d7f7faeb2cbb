#include <keel/header_map.hpp>
#include <keel/setting.hpp>

#include <charconv>
#include <stdexcept>
#include <string>

namespace keel {

namespace detail {

std::uint64_t parse_setting_number(std::string_view what, std::string_view text, std::uint64_t min,
                                   std::uint64_t max) {
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value < min || value > max) {
        throw std::invalid_argument("keel: " + std::string(what) + " must be a whole number from " +
                                    std::to_string(min) + " to " + std::to_string(max) + ", got '" +
                                    std::string(text) + "'");
    }
    return value;
}

}  // namespace detail

bool parse_setting_flag(std::string_view what, std::string_view text) {
    for (const std::string_view yes : {"1", "true", "on", "yes"}) {
        if (iequals(text, yes)) return true;
    }
    for (const std::string_view no : {"0", "false", "off", "no"}) {
        if (iequals(text, no)) return false;
    }
    throw std::invalid_argument("keel: " + std::string(what) +
                                " must be on or off (1/true/yes or 0/false/no), got '" + std::string(text) +
                                "'");
}

}  // namespace keel
