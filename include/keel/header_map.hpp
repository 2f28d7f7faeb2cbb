#pragma once

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace keel {

/// HTTP header fields in arrival order, looked up case-insensitively.
///
/// A field may occur more than once (`add`); `get` returns the first occurrence, `set`
/// replaces every occurrence. Sized for the handful of fields a request carries: lookups
/// are linear, which beats hashing for tens of entries.
class header_map {
public:
    using value_type = std::pair<std::string, std::string>;
    using const_iterator = std::vector<value_type>::const_iterator;

    header_map() = default;
    /// `header_map{{"Content-Type", "application/json"}, {"X-Request-Id", "7"}}`, in that order.
    header_map(std::initializer_list<value_type> fields) : fields_(fields) {}

    /// The first value of `name`, if present.
    std::optional<std::string_view> get(std::string_view name) const noexcept;
    /// The first value of `name`, or `fallback`.
    std::string_view value_or(std::string_view name, std::string_view fallback) const noexcept;
    bool contains(std::string_view name) const noexcept { return get(name).has_value(); }
    /// How many fields are called `name`.
    std::size_t count(std::string_view name) const noexcept;

    /// Replaces every field called `name` with one field.
    void set(std::string_view name, std::string value);
    /// Appends a field, keeping earlier ones of the same name.
    void add(std::string name, std::string value);
    /// Removes every field called `name`; returns how many there were.
    std::size_t erase(std::string_view name);
    void clear() noexcept { fields_.clear(); }
    void reserve(std::size_t n) { fields_.reserve(n); }

    std::size_t size() const noexcept { return fields_.size(); }
    bool empty() const noexcept { return fields_.empty(); }
    const_iterator begin() const noexcept { return fields_.begin(); }
    const_iterator end() const noexcept { return fields_.end(); }

private:
    std::vector<value_type> fields_;
};

/// ASCII case-insensitive comparison, as HTTP field names and tokens need.
bool iequals(std::string_view a, std::string_view b) noexcept;

/// `text` without the spaces and tabs around it (HTTP's "optional whitespace").
std::string_view trim_whitespace(std::string_view text) noexcept;

}  // namespace keel
