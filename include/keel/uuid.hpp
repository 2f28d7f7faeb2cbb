#pragma once

#include <keel/codec.hpp>

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace keel {

/// A UUID (PostgreSQL's `uuid`): 16 bytes, compared and hashed as bytes, written in the
/// canonical lower-case form `8-4-4-4-12`. As a JSON value, a path, query or header parameter it
/// is that canonical string; any other text is a 422 (`type_error.uuid`).
class uuid {
public:
    using bytes_type = std::array<std::uint8_t, 16>;

    constexpr uuid() noexcept = default;  ///< the nil UUID, all zeros
    explicit constexpr uuid(const bytes_type& bytes) noexcept : bytes_(bytes) {}

    /// The canonical form in either case, with or without braces, or 32 hex digits without
    /// hyphens (what PostgreSQL accepts, less its rarer spellings); nullopt for anything else.
    static std::optional<uuid> parse(std::string_view text) noexcept;

    std::string to_string() const;
    /// The canonical form, lower case (8-4-4-4-12), without allocating.
    std::array<char, 36> text() const noexcept;
    const bytes_type& bytes() const noexcept { return bytes_; }
    bool is_nil() const noexcept { return bytes_ == bytes_type{}; }

    friend constexpr bool operator==(const uuid&, const uuid&) noexcept = default;
    friend constexpr std::strong_ordering operator<=>(const uuid&, const uuid&) noexcept = default;

private:
    bytes_type bytes_{};
};

template <>
struct codec<uuid> {
    static std::optional<uuid> parse(std::string_view text, parse_failure& why);
    static void format(std::string& out, const uuid& value);
    static void describe(schema& s);  // {"type": "string", "format": "uuid"}
};

}  // namespace keel

template <>
struct std::hash<keel::uuid> {
    std::size_t operator()(const keel::uuid& id) const noexcept;
};
