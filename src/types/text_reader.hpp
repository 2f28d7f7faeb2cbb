#pragma once

// A cursor over a value's text with the few steps the date, time and interval readers need.

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace keel::detail {

struct text_reader {
    std::string_view text;
    std::size_t at = 0;

    bool done() const noexcept { return at == text.size(); }
    bool next_is(char c) const noexcept { return at < text.size() && text[at] == c; }
    bool take(char c) noexcept {
        if (!next_is(c)) return false;
        ++at;
        return true;
    }
    // An optional sign: -1 or +1.
    int sign() noexcept { return take('-') ? -1 : (take('+'), 1); }
    // Exactly `count` digits, or (count 0) one or more; at most `longest`, so the value fits.
    std::optional<std::int64_t> digits(std::size_t count, std::size_t longest = 12) noexcept {
        const auto start = at;
        while (at < text.size() && text[at] >= '0' && text[at] <= '9' && (count == 0 || at - start < count))
            ++at;
        const auto length = at - start;
        if (length == 0 || (count != 0 && length != count) || length > longest) return std::nullopt;
        std::int64_t value = 0;
        std::from_chars(text.data() + start, text.data() + at, value);
        return value;
    }
};

}  // namespace keel::detail
