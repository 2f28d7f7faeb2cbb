#include <keel/chrono.hpp>
#include <keel/schema.hpp>

#include "types/text_reader.hpp"
#include "types/time_units.hpp"

#include <charconv>
#include <stdexcept>

namespace keel::detail {

namespace {

using namespace std::chrono;

using reader = text_reader;

// PostgreSQL's special values and eras that std::chrono cannot hold.
bool refuse_special(std::string_view text, const char* what, parse_failure& why) {
    if (text == "infinity" || text == "-infinity") {
        why = {std::string(what) + " is " + std::string(text) +
                   ": no std::chrono value holds it (read it as a "
                   "std::optional and map it to NULL in SQL)",
               "value_error." + std::string(what)};
        return true;
    }
    if (text.ends_with(" BC")) {
        why = {std::string(what) + " is before year 1 (BC): not supported",
               "value_error." + std::string(what)};
        return true;
    }
    return false;
}

std::optional<year_month_day> read_date(reader& in) {
    const auto y = in.digits(0);
    if (!y || in.at < 4 || *y > 294'276) return std::nullopt;  // at least four digits; PostgreSQL's last year
    if (!in.take('-')) return std::nullopt;
    const auto m = in.digits(2);
    if (!m || !in.take('-')) return std::nullopt;
    const auto d = in.digits(2);
    if (!d) return std::nullopt;
    const year_month_day date{year(static_cast<int>(*y)), month(static_cast<unsigned>(*m)),
                              day(static_cast<unsigned>(*d))};
    if (!date.ok() || *y < 1) return std::nullopt;
    return date;
}

// "HH:MM:SS" (GCC 12 sees uninitialised optionals where three are chained: plain ints here).
bool read_clock(reader& in, std::int64_t& h, std::int64_t& mi, std::int64_t& s) {
    const auto hours = in.digits(2);
    if (!hours || !in.take(':')) return false;
    const auto minutes = in.digits(2);
    if (!minutes || !in.take(':')) return false;
    const auto seconds = in.digits(2);
    if (!seconds) return false;
    h = *hours, mi = *minutes, s = *seconds;
    return h <= 23 && mi <= 59 && s <= 59;
}

void append_padded(std::string& out, std::int64_t value, int width) {
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
    for (auto n = end - digits; n < width; ++n) out += '0';
    out.append(digits, end);
}

// Built only when a text fails: a timestamp column is parsed once per row.
parse_failure malformed_timestamp() {
    return {
        "value is not a valid datetime: expected YYYY-MM-DDTHH:MM:SS[.ffffff] and an offset (Z or ±HH:MM)",
        "value_error.datetime"};
}

}  // namespace

void refuse_imprecise_time(parse_failure& why) {
    why = {"value has more precision than the field keeps (it would be rounded)",
           "value_error.datetime.precision"};
}

std::optional<std::int64_t> parse_timestamp(std::string_view text, bool require_offset, parse_failure& why) {
    if (refuse_special(text, "datetime", why)) return std::nullopt;
    const parse_failure malformed{
        "value is not a valid datetime: expected YYYY-MM-DDTHH:MM:SS[.ffffff] and an "
        "offset (Z or ±HH:MM)",
        "value_error.datetime"};
    reader in{text};
    const auto date = read_date(in);
    if (!date || !(in.take('T') || in.take('t') || in.take(' ')))
        return why = malformed_timestamp(), std::nullopt;
    std::int64_t h = 0, mi = 0, s = 0;
    if (!read_clock(in, h, mi, s)) return why = malformed_timestamp(), std::nullopt;
    std::int64_t fraction = 0;
    if (in.take('.')) {
        const auto start = in.at;
        if (!in.digits(0)) return why = malformed_timestamp(), std::nullopt;
        const auto digits = text.substr(start, in.at - start);
        for (std::size_t i = 0; i < digits.size(); ++i) {
            const int digit = digits[i] - '0';
            if (i < 6) {
                fraction = fraction * 10 + digit;
            } else if (digit != 0) {  // finer than a microsecond: PostgreSQL would round it
                refuse_imprecise_time(why);
                return std::nullopt;
            }
        }
        for (auto i = digits.size(); i < 6; ++i) fraction *= 10;
    }
    std::int64_t offset_seconds = 0;
    if (in.take('Z') || in.take('z')) {
    } else if (in.next_is('+') || in.next_is('-')) {
        const int sign = in.take('-') ? -1 : (in.take('+'), 1);
        const auto oh = in.digits(2);
        std::optional<std::int64_t> om = 0, os = 0;
        if (in.take(':') || (in.at < text.size() && text[in.at] >= '0' && text[in.at] <= '9'))
            om = in.digits(2);
        if (om && in.take(':')) os = in.digits(2);  // PostgreSQL writes historical offsets to the second
        if (!oh || !om || !os || *oh > 15 || *om > 59 || *os > 59)
            return why = malformed_timestamp(), std::nullopt;
        offset_seconds = sign * (*oh * 3600 + *om * 60 + *os);
    } else if (require_offset) {
        why = {"value is not a valid datetime: it has no offset (add Z or ±HH:MM)", "value_error.datetime"};
        return std::nullopt;
    }
    if (!in.done()) return why = malformed_timestamp(), std::nullopt;
    const auto days_since_epoch = sys_days(*date).time_since_epoch().count();
    const auto seconds = h * 3600 + mi * 60 + s - offset_seconds;
    return days_since_epoch * micros_per_day + seconds * micros_per_second + fraction;
}

void format_timestamp(std::string& out, std::int64_t micros) {
    auto days_since_epoch = micros / micros_per_day;
    auto in_day = micros % micros_per_day;
    if (in_day < 0) {  // before 1970: floor, not truncate
        in_day += micros_per_day;
        --days_since_epoch;
    }
    const year_month_day date{sys_days(days(days_since_epoch))};
    format_date(out, date);
    out += 'T';
    format_time_of_day(out, microseconds(in_day));
    out += 'Z';
}

std::optional<microseconds> parse_time_of_day(std::string_view text, parse_failure& why) {
    reader in{text};
    std::int64_t h = 0, mi = 0, s = 0;
    std::int64_t fraction = 0;
    bool ok = read_clock(in, h, mi, s);
    if (ok && in.take('.')) {
        const auto start = in.at;
        ok = in.digits(0).has_value();
        const auto digits = text.substr(start, in.at - start);
        for (std::size_t i = 0; ok && i < digits.size(); ++i) {
            if (i < 6) {
                fraction = fraction * 10 + (digits[i] - '0');
            } else if (digits[i] != '0') {
                refuse_imprecise_time(why);
                return std::nullopt;
            }
        }
        for (auto i = digits.size(); i < 6; ++i) fraction *= 10;
    }
    if (!ok || !in.done()) {
        why = {"value is not a valid time: expected HH:MM:SS[.ffffff], before 24:00:00", "value_error.time"};
        return std::nullopt;
    }
    return microseconds((h * 3600 + mi * 60 + s) * micros_per_second + fraction);
}

void format_time_of_day(std::string& out, microseconds since_midnight) {
    const auto micros = since_midnight.count();
    if (micros < 0 || micros >= micros_per_day)
        throw std::out_of_range("keel: a time of day is from 00:00:00 up to, not including, 24:00:00");
    const auto seconds = micros / micros_per_second;
    append_padded(out, seconds / 3600, 2);
    out += ':';
    append_padded(out, seconds / 60 % 60, 2);
    out += ':';
    append_padded(out, seconds % 60, 2);
    if (const auto fraction = micros % micros_per_second) {
        out += '.';
        append_padded(out, fraction, 6);
    }
}

std::optional<year_month_day> parse_date(std::string_view text, parse_failure& why) {
    if (refuse_special(text, "date", why)) return std::nullopt;
    reader in{text};
    const auto date = read_date(in);
    if (!date || !in.done()) {
        why = {"value is not a valid date: expected YYYY-MM-DD", "value_error.date"};
        return std::nullopt;
    }
    return date;
}

void format_date(std::string& out, year_month_day date) {
    if (!date.ok() || static_cast<int>(date.year()) < 1)
        throw std::out_of_range(
            "keel: a date before year 1, or not a calendar date, has no text keel writes");
    append_padded(out, static_cast<int>(date.year()), 4);
    out += '-';
    append_padded(out, static_cast<unsigned>(date.month()), 2);
    out += '-';
    append_padded(out, static_cast<unsigned>(date.day()), 2);
}

}  // namespace keel::detail

namespace keel {

void detail::describe_timestamp(schema& s) {
    s.type("string").format("date-time");
}

void codec<std::chrono::year_month_day>::describe(schema& s) {
    s.type("string").format("date");
}

void codec<std::chrono::hh_mm_ss<std::chrono::microseconds>>::describe(schema& s) {
    s.type("string").format("time");  // without an offset: PostgreSQL's time
}

}  // namespace keel
