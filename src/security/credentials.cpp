#include "security/credentials.hpp"

#include <keel/header_map.hpp>

#include <fstream>
#include <stdexcept>

namespace keel::detail {

std::optional<std::string_view> authorization_credentials(const request& req,
                                                          std::string_view scheme) noexcept {
    std::optional<std::string_view> found;
    for (const auto& [name, value] : req.headers()) {
        if (!iequals(name, "Authorization")) continue;
        if (found) return std::nullopt;
        found = value;
    }
    if (!found || found->size() <= scheme.size() || !iequals(found->substr(0, scheme.size()), scheme) ||
        (*found)[scheme.size()] != ' ')
        return std::nullopt;
    return trim_whitespace(found->substr(scheme.size()));
}

void read_entries(const std::string& path, std::string_view what, std::string_view separators,
                  std::string_view expected,
                  const std::function<void(std::string_view name, std::string_view value)>& entry) {
    std::ifstream in(path);
    if (!in) throw std::invalid_argument("keel: cannot read the " + std::string(what) + " '" + path + "'");
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
        std::string_view text = line;
        if (text.ends_with('\r')) text.remove_suffix(1);
        text = trim_whitespace(text);
        if (text.empty() || text.front() == '#') continue;
        const auto where = path + ":" + std::to_string(number) + ": ";
        const auto separator = text.find_first_of(separators);
        if (separator == std::string_view::npos)
            throw std::invalid_argument("keel: " + where + "expected '" + std::string(expected) + "'");
        try {
            entry(trim_whitespace(text.substr(0, separator)), trim_whitespace(text.substr(separator + 1)));
        } catch (const std::invalid_argument& e) {
            throw std::invalid_argument(where + e.what());
        }
    }
}

}  // namespace keel::detail
