#pragma once

namespace keel::detail {

// One hex digit's value, or -1: uuids, bytea and percent-encoded URLs read hex.
constexpr int hex_digit_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace keel::detail
