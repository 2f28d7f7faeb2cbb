#include "security/base64url.hpp"

#include <array>
#include <cstdint>

namespace keel::detail {

namespace {

using decoding_table = std::array<std::int8_t, 256>;

constexpr decoding_table table_of(std::string_view alphabet) {
    decoding_table table{};
    table.fill(-1);
    for (std::size_t i = 0; i < alphabet.size(); ++i)
        table[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
    return table;
}

constexpr auto url_table = table_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
constexpr auto standard_table = table_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");

std::optional<std::string> decode(std::string_view text, const decoding_table& table) {
    if (text.size() % 4 == 1) return std::nullopt;  // no length of bytes encodes to this
    std::string out;
    out.reserve(text.size() * 3 / 4);
    std::uint32_t bits = 0;
    int held = 0;
    for (const char c : text) {
        const auto value = table[static_cast<unsigned char>(c)];
        if (value < 0) return std::nullopt;
        bits = (bits << 6) | static_cast<std::uint32_t>(value);
        held += 6;
        if (held >= 8) {
            held -= 8;
            out.push_back(static_cast<char>((bits >> held) & 0xFF));
        }
    }
    // What is left over must be zero bits: "QQ" and "QR" would otherwise both decode to "A".
    if ((bits & ((1U << held) - 1)) != 0) return std::nullopt;
    return out;
}

}  // namespace

std::optional<std::string> base64url_decode(std::string_view text) {
    return decode(text, url_table);
}

std::optional<std::string> base64_decode(std::string_view text) {
    if (text.size() % 4 != 0) return std::nullopt;
    std::size_t padding = 0;
    while (padding < 2 && text.size() > padding && text[text.size() - 1 - padding] == '=') ++padding;
    return decode(text.substr(0, text.size() - padding), standard_table);
}

}  // namespace keel::detail
