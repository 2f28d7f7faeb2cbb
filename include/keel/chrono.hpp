#pragma once

// Dates and times, mapped to the std::chrono types a user reaches for first:
// - `timestamptz` and `timestamp` <-> std::chrono::sys_time<D> (a `timestamp` column is read as
//   UTC); in requests and JSON, RFC 3339 with an offset ("2026-12-02T09:30:00.25+01:00"),
//   written back in UTC ("2026-12-02T08:30:00.250000Z");
// - `date` <-> std::chrono::year_month_day, "2026-12-02";
// - `time` <-> std::chrono::hh_mm_ss<std::chrono::microseconds>, "09:30:00.25" (from 00:00:00
//   up to, not including, 24:00:00; PostgreSQL's 24:00:00 is refused).
// PostgreSQL keeps microseconds: a time point finer than that does not compile as a parameter
// (pass std::chrono::floor<std::chrono::microseconds>(t)), and a text more precise than the
// field's duration is refused, never rounded. `infinity`, `-infinity` and BC dates have no
// std::chrono value and are refused with a message naming them.

#include <keel/codec.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <ratio>
#include <string>
#include <string_view>

namespace keel {

namespace detail {
// Microseconds since 1970-01-01T00:00:00Z; `require_offset`: a request's text must say its
// offset, a `timestamp` column has none (UTC).
std::optional<std::int64_t> parse_timestamp(std::string_view text, bool require_offset, parse_failure& why);
void format_timestamp(std::string& out, std::int64_t micros_since_epoch);
std::optional<std::chrono::year_month_day> parse_date(std::string_view text, parse_failure& why);
void format_date(std::string& out, std::chrono::year_month_day date);
void refuse_imprecise_time(parse_failure& why);
std::optional<std::chrono::microseconds> parse_time_of_day(std::string_view text, parse_failure& why);
void format_time_of_day(std::string& out, std::chrono::microseconds since_midnight);
void describe_timestamp(schema& s);  // {"type": "string", "format": "date-time"}

template <class Period>
concept at_most_microseconds = std::ratio_greater_equal_v<Period, std::micro>;
}  // namespace detail

template <class Rep, class Period>
struct codec<std::chrono::sys_time<std::chrono::duration<Rep, Period>>> {
    using duration = std::chrono::duration<Rep, Period>;
    using time_point = std::chrono::sys_time<duration>;
    static_assert(detail::at_most_microseconds<Period>,
                  "keel: PostgreSQL keeps timestamps to the microsecond: use a std::chrono::sys_time of "
                  "microseconds or coarser (std::chrono::floor<std::chrono::microseconds>(t))");

    static std::optional<time_point> parse(std::string_view text, parse_failure& why) {
        return from_micros(detail::parse_timestamp(text, true, why), why);
    }
    static std::optional<time_point> from_column(std::string_view text, parse_failure& why) {
        return from_micros(detail::parse_timestamp(text, false, why), why);
    }
    static void format(std::string& out, const time_point& value) {
        const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(value.time_since_epoch());
        detail::format_timestamp(out, micros.count());
    }
    static void describe(schema& s) { detail::describe_timestamp(s); }

private:
    static std::optional<time_point> from_micros(std::optional<std::int64_t> micros, parse_failure& why) {
        if (!micros) return std::nullopt;
        const std::chrono::microseconds exact(*micros);
        const auto kept = std::chrono::floor<duration>(exact);
        if (kept != exact) {  // e.g. "…:00.5Z" into a sys_seconds
            detail::refuse_imprecise_time(why);
            return std::nullopt;
        }
        return time_point(kept);
    }
};

template <>
struct codec<std::chrono::year_month_day> {
    static std::optional<std::chrono::year_month_day> parse(std::string_view text, parse_failure& why) {
        return detail::parse_date(text, why);
    }
    static void format(std::string& out, std::chrono::year_month_day value) {
        detail::format_date(out, value);
    }
    static void describe(schema& s);  // {"type": "string", "format": "date"}
};

template <>
struct codec<std::chrono::hh_mm_ss<std::chrono::microseconds>> {
    using time_of_day = std::chrono::hh_mm_ss<std::chrono::microseconds>;
    static std::optional<time_of_day> parse(std::string_view text, parse_failure& why) {
        const auto since_midnight = detail::parse_time_of_day(text, why);
        if (!since_midnight) return std::nullopt;
        return time_of_day(*since_midnight);
    }
    static void format(std::string& out, const time_of_day& value) {
        detail::format_time_of_day(out, value.to_duration());
    }
    static void describe(schema& s);  // {"type": "string", "format": "time"}
};

}  // namespace keel
