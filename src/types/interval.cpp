#include <keel/interval.hpp>
#include <keel/schema.hpp>

#include "types/text_reader.hpp"
#include "types/time_units.hpp"

#include <charconv>
#include <stdexcept>

namespace keel::detail {

namespace {

const char* const iso_expected =
    "value is not a valid duration: expected ISO 8601, e.g. P1Y2M3DT4H5M6.5S (a fraction on the seconds "
    "only)";

void refuse(parse_failure& why, std::string msg) {
    why = {std::move(msg), "value_error.duration"};
}

// part += count * unit; false when it overflows.
bool add_scaled(std::int64_t& part, std::int64_t count, std::int64_t unit) {
    std::int64_t scaled = 0;
    return !__builtin_mul_overflow(count, unit, &scaled) && !__builtin_add_overflow(part, scaled, &part);
}

// Refuses a text whose parts do not fit; always nullopt.
std::nullopt_t out_of_range(parse_failure& why) {
    refuse_duration_out_of_range(why);
    return std::nullopt;
}

// The three parts while they are added up: wide, so that a sum out of range is seen.
struct parts {
    std::int64_t months = 0;
    std::int64_t days = 0;
    std::int64_t micros = 0;

    std::optional<interval> finish(parse_failure& why) const {
        if (!std::in_range<std::int32_t>(months) || !std::in_range<std::int32_t>(days))
            return out_of_range(why);
        return interval{static_cast<std::int32_t>(months), static_cast<std::int32_t>(days),
                        std::chrono::microseconds(micros)};
    }
};

// Digits of an interval's counts: up to 18, so that an int64 of them fits.
constexpr std::size_t longest_count = 18;

// "N[.f]": the seconds of an ISO 8601 duration, or the SS of HH:MM:SS, in microseconds, times
// `sign`. `imprecise` says a failure was a digit beyond the microsecond that is not 0.
std::optional<std::int64_t> read_seconds(text_reader& in, int sign, bool& imprecise) {
    const auto whole = in.digits(0, longest_count);
    if (!whole) return std::nullopt;
    std::int64_t micros = 0;
    if (in.take('.')) {
        const auto start = in.at;
        std::int64_t scale = 100'000;
        for (; !in.done() && in.text[in.at] >= '0' && in.text[in.at] <= '9'; ++in.at) {
            if (scale > 0) {
                micros += (in.text[in.at] - '0') * scale;
                scale /= 10;
            } else if (in.text[in.at] != '0') {
                imprecise = true;
            }
        }
        if (in.at == start || imprecise) return std::nullopt;
    }
    std::int64_t total = 0;
    if (__builtin_mul_overflow(*whole, micros_per_second, &total) ||
        __builtin_add_overflow(total, micros, &total))
        return std::nullopt;
    return sign * total;
}

std::optional<interval> parse_iso(std::string_view text, parse_failure& why) {
    text_reader in{text};
    parts sum;
    bool any = false;
    bool imprecise = false;
    auto fail = [&]() -> std::optional<interval> {
        if (imprecise)
            refuse_imprecise_duration(why);
        else
            refuse(why, iso_expected);
        return std::nullopt;
    };
    if (!in.take('P')) return fail();
    // The date part: Y, M, W, D, each at most once and in that order.
    constexpr std::string_view date_units = "YMWD";
    std::size_t next_unit = 0;
    while (!in.done() && !in.next_is('T')) {
        const int sign = in.sign();
        const auto count = in.digits(0, longest_count);
        if (!count || in.done()) return fail();
        const auto unit = date_units.find(in.text[in.at], next_unit);
        if (unit == std::string_view::npos) return fail();
        ++in.at;
        next_unit = unit + 1;
        const std::int64_t value = sign * *count;
        const bool fits = unit == 0   ? add_scaled(sum.months, value, 12)
                          : unit == 1 ? add_scaled(sum.months, value, 1)
                          : unit == 2 ? add_scaled(sum.days, value, 7)
                                      : add_scaled(sum.days, value, 1);
        if (!fits) return out_of_range(why);
        any = true;
    }
    // The time part: H, M, S; a fraction on the seconds only.
    if (in.take('T')) {
        constexpr std::string_view time_units = "HMS";
        std::size_t next = 0;
        bool any_time = false;
        while (!in.done()) {
            const auto start = in.at;
            const int sign = in.sign();
            const auto count = in.digits(0, longest_count);
            if (!count || in.done()) return fail();
            if (in.next_is('.')) {  // only the seconds may have one: read them again as seconds
                in.at = start;
                in.sign();
                const auto micros = read_seconds(in, sign, imprecise);
                if (!micros || !in.take('S') || next > 2) return fail();
                if (__builtin_add_overflow(sum.micros, *micros, &sum.micros)) return out_of_range(why);
                next = 3;
                any_time = true;
                continue;
            }
            const auto unit = time_units.find(in.text[in.at], next);
            if (unit == std::string_view::npos) return fail();
            ++in.at;
            next = unit + 1;
            constexpr std::int64_t scale[] = {micros_per_hour, micros_per_minute, micros_per_second};
            if (!add_scaled(sum.micros, sign * *count, scale[unit])) return out_of_range(why);
            any_time = true;
        }
        if (!any_time) return fail();
        any = true;
    }
    if (!any || !in.done()) return fail();
    return sum.finish(why);
}

// IntervalStyle postgres: "[+-]N year(s) [+-]N mon(s) [+-]N day(s) [+-]HH:MM:SS[.ffffff]",
// each part present only when not zero, "00:00:00" for the empty interval.
std::optional<interval> parse_postgres_style(std::string_view text, parse_failure& why) {
    text_reader in{text};
    parts sum;
    bool imprecise = false;
    auto fail = [&]() -> std::optional<interval> {
        if (imprecise) {
            refuse_imprecise_duration(why);
        } else {
            refuse(why,
                   "value is not a valid duration: keel reads PostgreSQL's intervals in IntervalStyle "
                   "postgres (the default) or iso_8601, not '" +
                       std::string(text.substr(0, 60)) + "'");
        }
        return std::nullopt;
    };
    if (text.empty()) return fail();
    while (!in.done()) {
        const int sign = in.sign();
        const auto count = in.digits(0, longest_count);
        if (!count) return fail();
        if (in.take(':')) {  // the time, last
            const auto minutes = in.digits(0, longest_count);
            if (!minutes || !in.take(':')) return fail();
            const auto seconds = read_seconds(in, 1, imprecise);
            if (!seconds || !in.done() || *minutes > 59 || *seconds >= 60 * micros_per_second) return fail();
            std::int64_t micros = 0;
            if (!add_scaled(micros, *count, micros_per_hour) ||
                !add_scaled(micros, *minutes, micros_per_minute) || !add_scaled(micros, *seconds, 1) ||
                !add_scaled(sum.micros, sign, micros))
                return out_of_range(why);
            break;
        }
        if (!in.take(' ')) return fail();
        const auto unit_start = in.at;
        while (!in.done() && !in.next_is(' ')) ++in.at;
        const auto unit = in.text.substr(unit_start, in.at - unit_start);
        const std::int64_t value = sign * *count;
        bool fits = false;
        if (unit == "year" || unit == "years")
            fits = add_scaled(sum.months, value, 12);
        else if (unit == "mon" || unit == "mons")
            fits = add_scaled(sum.months, value, 1);
        else if (unit == "day" || unit == "days")
            fits = add_scaled(sum.days, value, 1);
        else
            return fail();
        if (!fits) return out_of_range(why);
        if (!in.done() && (!in.take(' ') || in.done())) return fail();
    }
    return sum.finish(why);
}

void append_part(std::string& out, std::int64_t value, char unit) {
    if (value == 0) return;
    char buffer[24];
    const auto end = std::to_chars(buffer, buffer + sizeof buffer, value).ptr;
    out.append(buffer, end);
    out.push_back(unit);
}

}  // namespace

std::optional<interval> parse_interval(std::string_view text, parse_failure& why) {
    return parse_iso(text, why);
}

std::optional<interval> parse_interval_column(std::string_view text, parse_failure& why) {
    if (text.starts_with('P')) return parse_iso(text, why);
    return parse_postgres_style(text, why);
}

void format_interval(std::string& out, const interval& value) {
    const std::int64_t micros = value.time.count();
    if (value.months == 0 && value.days == 0 && micros == 0) {
        out += "PT0S";
        return;
    }
    out.push_back('P');
    append_part(out, value.months / 12, 'Y');
    append_part(out, value.months % 12, 'M');
    append_part(out, value.days, 'D');
    if (micros == 0) return;
    out.push_back('T');
    append_part(out, micros / micros_per_hour, 'H');
    append_part(out, micros % micros_per_hour / micros_per_minute, 'M');
    const std::int64_t seconds_micros = micros % micros_per_minute;  // the sign of `micros`
    if (seconds_micros == 0) return;
    if (seconds_micros < 0) out.push_back('-');
    const std::int64_t magnitude = seconds_micros < 0 ? -seconds_micros : seconds_micros;
    char buffer[24];
    out.append(buffer, std::to_chars(buffer, buffer + sizeof buffer, magnitude / micros_per_second).ptr);
    if (auto fraction = magnitude % micros_per_second; fraction != 0) {
        char digits[7] = {'0', '0', '0', '0', '0', '0', '\0'};
        for (int i = 5; i >= 0; --i, fraction /= 10) digits[i] = static_cast<char>('0' + fraction % 10);
        std::string_view shown(digits, 6);
        while (shown.ends_with('0')) shown.remove_suffix(1);
        out.push_back('.');
        out += shown;
    }
    out.push_back('S');
}

std::optional<std::chrono::microseconds> fixed_length(const std::optional<interval>& value,
                                                      parse_failure& why) {
    if (!value) return std::nullopt;
    if (value->months != 0 || value->days != 0) {
        refuse(why,
               "value is not a valid duration: it has months or days, which have no fixed length "
               "(read it as keel::interval, or give it in hours: PT24H)");
        return std::nullopt;
    }
    return value->time;
}

void refuse_imprecise_duration(parse_failure& why) {
    refuse(
        why,
        "value is not a valid duration: more precise than the field keeps (PostgreSQL keeps microseconds)");
}

void refuse_duration_out_of_range(parse_failure& why) {
    refuse(why, "value is not a valid duration: beyond PostgreSQL's interval range");
}

void throw_duration_out_of_range() {
    throw std::out_of_range(
        "keel: a std::chrono::duration beyond PostgreSQL's interval range (int64 microseconds)");
}

}  // namespace keel::detail

namespace keel {

void codec<interval>::describe(schema& s) {
    s.type("string").format("duration");  // ISO 8601: "P1Y2M3DT4H5M6.5S"
}

}  // namespace keel
