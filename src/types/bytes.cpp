#include <keel/bytes.hpp>
#include <keel/schema.hpp>

#include "types/hex.hpp"

#include <array>

namespace keel {

namespace {

constexpr char base64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char hex_digits[] = "0123456789abcdef";

constexpr std::array<int, 256> base64_values() {
    std::array<int, 256> values{};
    for (auto& v : values) v = -1;
    for (int i = 0; i < 64; ++i) values[static_cast<unsigned char>(base64_alphabet[i])] = i;
    return values;
}

}  // namespace

bytes bytes::from_string(std::string_view text) {
    bytes out(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) out[i] = static_cast<std::byte>(text[i]);
    return out;
}

std::optional<bytes> from_base64(std::string_view text) {
    static constexpr auto values = base64_values();
    if (text.size() % 4 != 0) return std::nullopt;
    bytes out;
    out.reserve(text.size() / 4 * 3);
    for (std::size_t i = 0; i < text.size(); i += 4) {
        const bool last = i + 4 == text.size();
        const std::size_t padding = last ? (text[i + 3] == '=') + (text[i + 2] == '=') : 0;
        if (padding == 1 && text[i + 2] == '=') return std::nullopt;  // "x=y=" is not padding
        std::uint32_t group = 0;
        for (std::size_t k = 0; k < 4; ++k) {
            int v = 0;
            if (k < 4 - padding) {
                v = values[static_cast<unsigned char>(text[i + k])];
                if (v < 0) return std::nullopt;
            }
            group = group << 6 | static_cast<std::uint32_t>(v);
        }
        out.push_back(static_cast<std::byte>(group >> 16));
        if (padding < 2) out.push_back(static_cast<std::byte>(group >> 8 & 0xff));
        if (padding < 1) out.push_back(static_cast<std::byte>(group & 0xff));
        // Bits the padding drops must be zero: one text per value ("QQ==", never "QR==").
        if ((padding == 1 && (group & 0xff) != 0) || (padding == 2 && (group & 0xffff) != 0))
            return std::nullopt;
    }
    return out;
}

std::string to_base64(const bytes& data) {
    std::string out;
    out.reserve((data.size() + 2) / 3 * 4);
    for (std::size_t i = 0; i < data.size(); i += 3) {
        const auto left = data.size() - i;
        std::uint32_t group = std::to_integer<std::uint32_t>(data[i]) << 16;
        if (left > 1) group |= std::to_integer<std::uint32_t>(data[i + 1]) << 8;
        if (left > 2) group |= std::to_integer<std::uint32_t>(data[i + 2]);
        out += base64_alphabet[group >> 18 & 63];
        out += base64_alphabet[group >> 12 & 63];
        out += left > 1 ? base64_alphabet[group >> 6 & 63] : '=';
        out += left > 2 ? base64_alphabet[group & 63] : '=';
    }
    return out;
}

std::optional<bytes> codec<bytes>::parse(std::string_view text, parse_failure& why) {
    auto data = from_base64(text);
    if (!data) why = {"value is not valid base64 (RFC 4648, with padding)", "value_error.bytes"};
    return data;
}

std::optional<bytes> codec<bytes>::from_column(std::string_view text, parse_failure& why) {
    if (!text.starts_with("\\x") || text.size() % 2 != 0) {
        why = {"bytea text is not hex (\\x...): set bytea_output = 'hex'", "value_error.bytes"};
        return std::nullopt;
    }
    bytes out((text.size() - 2) / 2);
    for (std::size_t i = 0; i < out.size(); ++i) {
        const int high = detail::hex_digit_value(text[2 + 2 * i]),
                  low = detail::hex_digit_value(text[3 + 2 * i]);
        if (high < 0 || low < 0) {
            why = {"bytea text is not hex", "value_error.bytes"};
            return std::nullopt;
        }
        out[i] = static_cast<std::byte>(high << 4 | low);
    }
    return out;
}

void codec<bytes>::format(std::string& out, const bytes& value) {
    out.reserve(out.size() + 2 + 2 * value.size());
    out += "\\x";
    for (const auto b : value) {
        const auto v = std::to_integer<unsigned>(b);
        out += hex_digits[v >> 4];
        out += hex_digits[v & 0xf];
    }
}

void codec<bytes>::write_json(std::string& out, const bytes& value) {
    out += '"';
    out += to_base64(value);
    out += '"';
}

}  // namespace keel

namespace keel {

void codec<bytes>::describe(schema& s) {
    s.type("string").format("byte").content_encoding("base64");
}

}  // namespace keel
