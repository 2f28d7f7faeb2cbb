#include <keel/codec.hpp>
#include <keel/header_map.hpp>

#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>
#include <system_error>

namespace keel {
namespace detail {
namespace {

// Like Python's int("+5"), a leading '+' is allowed; the number is parsed at full width, then
// checked against T's range, so "300" for a uint8 says "out of range", not "not an integer".
template <class Wide>
std::optional<Wide> parse_wide(std::string_view text, int bits, parse_failure& why) {
    if (!text.empty() && text.front() == '+') {
        text.remove_prefix(1);
        if (!text.empty() && text.front() == '-') text = {};  // "+-5" is no integer
    }
    Wide value{};
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc::result_out_of_range) {
        why = {"value is out of range for a " + std::to_string(bits) + "-bit integer",
               "value_error.number.not_in_range"};
        return std::nullopt;
    }
    if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) {
        why = {"value is not a valid integer", "type_error.integer"};
        return std::nullopt;
    }
    return value;
}

}  // namespace

std::optional<std::int64_t> parse_signed(std::string_view text, std::int64_t min, std::int64_t max, int bits,
                                         parse_failure& why) {
    auto value = parse_wide<std::int64_t>(text, bits, why);
    if (value && (*value < min || *value > max)) {
        why = {"value is out of range for a " + std::to_string(bits) + "-bit integer",
               "value_error.number.not_in_range"};
        return std::nullopt;
    }
    return value;
}

std::optional<std::uint64_t> parse_unsigned(std::string_view text, std::uint64_t max, int bits,
                                            parse_failure& why) {
    // from_chars takes "-1" for no unsigned type: a minus sign is "not a valid integer" as before.
    auto value = parse_wide<std::uint64_t>(text, bits, why);
    if (value && *value > max) {
        why = {"value is out of range for a " + std::to_string(bits) + "-bit integer",
               "value_error.number.not_in_range"};
        return std::nullopt;
    }
    return value;
}

template <std::floating_point T>
std::optional<T> parse_floating(std::string_view text, parse_failure& why) {
    T value{};
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) {
        why = {"value is not a valid float", "type_error.float"};
        return std::nullopt;
    }
    return value;
}

template std::optional<float> parse_floating<float>(std::string_view, parse_failure&);
template std::optional<double> parse_floating<double>(std::string_view, parse_failure&);

namespace {

template <class Number>
void append_number(std::string& out, Number value) {
    char text[64];
    const auto end = std::to_chars(text, text + sizeof text, value).ptr;  // floating: shortest round trip
    out.append(text, end);
}

template <class F>
void append_floating(std::string& out, F value) {
    if (std::isnan(value)) {
        out += "NaN";
    } else if (std::isinf(value)) {
        out += value > 0 ? "Infinity" : "-Infinity";
    } else {
        append_number(out, value);
    }
}

}  // namespace

void format_signed(std::string& out, std::int64_t value) {
    append_number(out, value);
}
void format_unsigned(std::string& out, std::uint64_t value) {
    append_number(out, value);
}
void format_floating(std::string& out, double value) {
    append_floating(out, value);
}
void format_floating(std::string& out, float value) {
    append_floating(out, value);
}

void append_json_double(std::string& out, double value) {
    out += nlohmann::json(value).dump();
}

}  // namespace detail

std::optional<bool> codec<bool>::parse(std::string_view text, parse_failure& why) {
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
