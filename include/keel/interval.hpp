#pragma once

// PostgreSQL's `interval`, as keel::interval (exact: months, days and microseconds, the three
// parts PostgreSQL keeps) or as a std::chrono::duration (an interval of fixed length only). In
// requests and JSON an interval is an ISO 8601 duration, "P1Y2M3DT4H5M6.5S"; keel writes it in
// that form too, which PostgreSQL reads whatever its IntervalStyle. It reads PostgreSQL's output
// in IntervalStyle `postgres` (the default) or `iso_8601`; the two others are refused.

#include <keel/codec.hpp>

#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <ratio>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace keel {

/// A PostgreSQL `interval`: months, days and microseconds kept apart, as PostgreSQL keeps them,
/// because none converts exactly into another (a month is 28 to 31 days; added to a timestamptz,
/// a day is 23 to 25 hours across a daylight-saving change).
struct interval {
    std::int32_t months = 0;
    std::int32_t days = 0;
    std::chrono::microseconds time{0};

    friend bool operator==(const interval&, const interval&) = default;
};

namespace detail {
// ISO 8601, "P1Y2M3DT4H5M6.5S" (weeks too; a fraction on the seconds only).
std::optional<interval> parse_interval(std::string_view text, parse_failure& why);
// PostgreSQL's output in IntervalStyle postgres ("1 year 2 mons 3 days 04:05:06.5") or iso_8601.
std::optional<interval> parse_interval_column(std::string_view text, parse_failure& why);
void format_interval(std::string& out, const interval& value);
// The length of an interval without months or days; one with them has no fixed length.
std::optional<std::chrono::microseconds> fixed_length(const std::optional<interval>& value,
                                                      parse_failure& why);
void refuse_imprecise_duration(parse_failure& why);
void refuse_duration_out_of_range(parse_failure& why);
[[noreturn]] void throw_duration_out_of_range();
}  // namespace detail

template <>
struct codec<interval> {
    static std::optional<interval> parse(std::string_view text, parse_failure& why) {
        return detail::parse_interval(text, why);
    }
    static std::optional<interval> from_column(std::string_view text, parse_failure& why) {
        return detail::parse_interval_column(text, why);
    }
    static void format(std::string& out, const interval& value) { detail::format_interval(out, value); }
    static void describe(schema& s);  // {"type": "string", "format": "duration"}
};

/// A std::chrono::duration of integer ticks, a microsecond or coarser, is an interval of fixed
/// length (hours, minutes, seconds). An interval with months or days ("P1D", '1 mon') is refused
/// rather than given an assumed length: read it as keel::interval. A text more precise than the
/// duration's ticks is refused, never rounded.
template <class Rep, class Period>
struct codec<std::chrono::duration<Rep, Period>> {
    using duration = std::chrono::duration<Rep, Period>;
    static_assert(
        std::is_integral_v<Rep> && std::ratio_greater_equal_v<Period, std::micro>,
        "keel: PostgreSQL keeps intervals to the microsecond: use a std::chrono::duration of integer "
        "ticks, microseconds or coarser (std::chrono::seconds, std::chrono::microseconds, ...)");

    static std::optional<duration> parse(std::string_view text, parse_failure& why) {
        return from_micros(detail::fixed_length(detail::parse_interval(text, why), why), why);
    }
    static std::optional<duration> from_column(std::string_view text, parse_failure& why) {
        return from_micros(detail::fixed_length(detail::parse_interval_column(text, why), why), why);
    }
    static void format(std::string& out, const duration& value) {
        using wide = std::chrono::duration<long double, std::micro>;
        const auto micros = std::chrono::duration_cast<wide>(value).count();
        if (micros > static_cast<long double>(std::numeric_limits<std::int64_t>::max()) ||
            micros < static_cast<long double>(std::numeric_limits<std::int64_t>::min()))
            detail::throw_duration_out_of_range();
        detail::format_interval(out, {0, 0, std::chrono::duration_cast<std::chrono::microseconds>(value)});
    }
    static void describe(schema& s) { codec<interval>::describe(s); }

private:
    static std::optional<duration> from_micros(std::optional<std::chrono::microseconds> exact,
                                               parse_failure& why) {
        if (!exact) return std::nullopt;
        using ticks = std::chrono::duration<std::int64_t, Period>;
        const auto kept = std::chrono::floor<ticks>(*exact);
        if (kept != *exact) {  // "PT0.5S" into std::chrono::seconds
            detail::refuse_imprecise_duration(why);
            return std::nullopt;
        }
        if (!std::in_range<Rep>(kept.count())) {
            detail::refuse_duration_out_of_range(why);
            return std::nullopt;
        }
        return duration(static_cast<Rep>(kept.count()));
    }
};

}  // namespace keel
