#pragma once

#include <keel/codec.hpp>

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace keel {

/// An exact decimal number (PostgreSQL's `numeric`): an integer of any length and a scale, the
/// count of digits after the point. Never held as a double, so "0.10" stays 0.10 and a price of
/// "19.99" is 19.99. The text keeps its scale ("12.50" is written back as "12.50") and values
/// compare as numbers (12.5 == 12.50). `+`, `-` and `*` are exact; there is no division (it
/// would have to round: do it in SQL, where the rounding is named).
///
/// In JSON a decimal is a string ("12.50"), as pydantic writes Decimal: a JSON number would be
/// read as a double by most clients. NaN and the infinities have no decimal value and are
/// refused. PostgreSQL rounds a value to a `numeric(p, s)` column's scale s and refuses one
/// with more than p - s digits before the point (numeric field overflow, a database_error).
class decimal {
public:
    decimal() = default;          ///< 0
    decimal(std::int64_t value);  // NOLINT(google-explicit-constructor): an integer is a decimal

    /// `[+-]digits[.digits][e[+-]digits]`, also ".5" and "5." (as PostgreSQL reads them);
    /// nullopt for anything else, or an exponent beyond PostgreSQL's numeric range.
    static std::optional<decimal> parse(std::string_view text);

    std::string to_string() const;
    /// Digits after the point, as written ("12.50": 2).
    std::uint32_t scale() const noexcept { return scale_; }
    bool is_negative() const noexcept { return negative_; }
    bool is_zero() const noexcept { return digits_ == "0"; }

    friend decimal operator+(const decimal& a, const decimal& b);
    friend decimal operator-(const decimal& a, const decimal& b);
    friend decimal operator*(const decimal& a, const decimal& b);
    decimal operator-() const;

    friend bool operator==(const decimal& a, const decimal& b);
    friend std::strong_ordering operator<=>(const decimal& a, const decimal& b);

private:
    bool negative_ = false;     // never true for zero
    std::string digits_ = "0";  // the unscaled value's digits, no leading zeros
    std::uint32_t scale_ = 0;
};

template <>
struct codec<decimal> {
    static std::optional<decimal> parse(std::string_view text, parse_failure& why);
    static void format(std::string& out, const decimal& value) { out += value.to_string(); }
    static void describe(schema& s);  // a string of digits: {"type": "string", "format": "decimal", ...}
};

}  // namespace keel
