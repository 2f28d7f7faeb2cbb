#include <keel/header_map.hpp>

#include <algorithm>

namespace keel {

namespace {
constexpr char lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}
}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

std::optional<std::string_view> header_map::get(std::string_view name) const noexcept {
    for (const auto& [key, value] : fields_) {
        if (iequals(key, name)) return std::string_view(value);
    }
    return std::nullopt;
}

std::string_view header_map::value_or(std::string_view name, std::string_view fallback) const noexcept {
    auto v = get(name);
    return v ? *v : fallback;
}

std::size_t header_map::count(std::string_view name) const noexcept {
    return static_cast<std::size_t>(std::count_if(
        fields_.begin(), fields_.end(), [&](const value_type& f) { return iequals(f.first, name); }));
}

void header_map::set(std::string_view name, std::string value) {
    auto it = std::find_if(fields_.begin(), fields_.end(),
                           [&](const value_type& f) { return iequals(f.first, name); });
    if (it == fields_.end()) {
        fields_.emplace_back(std::string(name), std::move(value));
        return;
    }
    it->second = std::move(value);
    // drop any later duplicates
    fields_.erase(std::remove_if(std::next(it), fields_.end(),
                                 [&](const value_type& f) { return iequals(f.first, name); }),
                  fields_.end());
}

void header_map::add(std::string name, std::string value) {
    fields_.emplace_back(std::move(name), std::move(value));
}

std::size_t header_map::erase(std::string_view name) {
    const auto before = fields_.size();
    fields_.erase(std::remove_if(fields_.begin(), fields_.end(),
                                 [&](const value_type& f) { return iequals(f.first, name); }),
                  fields_.end());
    return before - fields_.size();
}

std::string_view trim_whitespace(std::string_view text) noexcept {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

}  // namespace keel
