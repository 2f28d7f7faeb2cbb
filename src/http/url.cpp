#include "http/url.hpp"

#include "types/hex.hpp"

namespace keel::detail {

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '%') {
            if (i + 2 >= text.size()) return std::nullopt;
            const int hi = hex_digit_value(text[i + 1]);
            const int lo = hex_digit_value(text[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            out.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
        } else if (c == '+' && plus_is_space) {
            out.push_back(' ');
        } else {
            out.push_back(c);
        }
    }
    return out;
}

std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query) {
    std::vector<std::pair<std::string, std::string>> out;
    while (!query.empty()) {
        const auto amp = query.find('&');
        const auto part = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        if (part.empty()) continue;
        const auto eq = part.find('=');
        const auto raw_key = part.substr(0, eq);
        const auto raw_value = eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1);
        auto key = percent_decode(raw_key, true);
        auto value = percent_decode(raw_value, true);
        out.emplace_back(key ? std::move(*key) : std::string(raw_key),
                         value ? std::move(*value) : std::string(raw_value));
    }
    return out;
}

}  // namespace keel::detail
