#include <keel/schema.hpp>
#include <keel/uuid.hpp>

#include "types/hex.hpp"

#include <cstring>
#include <functional>

namespace keel {

namespace {

// Where the canonical form has its hyphens.
bool hyphen_at(std::size_t i) noexcept {
    return i == 8 || i == 13 || i == 18 || i == 23;
}

}  // namespace

std::optional<uuid> uuid::parse(std::string_view text) noexcept {
    if (text.size() == 38 && text.front() == '{' && text.back() == '}') text = text.substr(1, 36);
    const bool hyphenated = text.size() == 36;
    if (!hyphenated && text.size() != 32) return std::nullopt;
    bytes_type bytes{};
    std::size_t digit = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (hyphenated && hyphen_at(i)) {
            if (text[i] != '-') return std::nullopt;
            continue;
        }
        const int v = detail::hex_digit_value(text[i]);
        if (v < 0) return std::nullopt;
        bytes[digit / 2] = static_cast<std::uint8_t>(digit % 2 ? bytes[digit / 2] | v : v << 4);
        ++digit;
    }
    return uuid(bytes);
}

std::array<char, 36> uuid::text() const noexcept {
    static constexpr char hex[] = "0123456789abcdef";
    std::array<char, 36> out{};
    std::size_t at = 0;
    for (std::size_t i = 0; i < bytes_.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out[at++] = '-';
        out[at++] = hex[bytes_[i] >> 4];
        out[at++] = hex[bytes_[i] & 0xf];
    }
    return out;
}

std::string uuid::to_string() const {
    const auto chars = text();
    return {chars.data(), chars.size()};
}

std::optional<uuid> codec<uuid>::parse(std::string_view text, parse_failure& why) {
    auto id = uuid::parse(text);
    if (!id) why = {"value is not a valid uuid", "type_error.uuid"};
    return id;
}

void codec<uuid>::format(std::string& out, const uuid& value) {
    out += value.to_string();
}

}  // namespace keel

std::size_t std::hash<keel::uuid>::operator()(const keel::uuid& id) const noexcept {
    std::uint64_t halves[2];
    std::memcpy(halves, id.bytes().data(), sizeof halves);
    return std::hash<std::uint64_t>{}(halves[0] ^ (halves[1] * 0x9e3779b97f4a7c15ULL));
}

namespace keel {

void codec<uuid>::describe(schema& s) {
    s.type("string").format("uuid");
}

}  // namespace keel
