// keel's logger and its two formats. Written here rather than on spdlog: a line is a message
// plus typed fields that must come out as valid JSON (escaped, UTF-8 checked), which spdlog's
// format-string model does not provide, and what spdlog would add (sinks, a locked write, an
// async queue) is one write(2) per line here. Apps that use spdlog install a record_sink.

#include <keel/logger.hpp>
#include <keel/model.hpp>  // detail::append_json_string

#include <unistd.h>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <ctime>

namespace keel {

std::string_view to_string(log_level l) noexcept {
    switch (l) {
        case log_level::debug:
            return "debug";
        case log_level::info:
            return "info";
        case log_level::warning:
            return "warning";
        case log_level::error:
            return "error";
        case log_level::off:
            return "off";
    }
    return "?";
}

std::optional<log_level> parse_log_level(std::string_view name) noexcept {
    for (auto l : {log_level::debug, log_level::info, log_level::warning, log_level::error, log_level::off}) {
        if (name == to_string(l)) return l;
    }
    if (name == "warn") return log_level::warning;
    return std::nullopt;
}

double log_milliseconds(std::chrono::nanoseconds d) noexcept {
    // The shortest decimal that reads back the same, so "0.412", not "0.41200000000000003".
    return std::round(static_cast<double>(d.count()) / 1e3) / 1e3;
}

namespace {

// "2026-12-05T06:30:00.123Z"
void append_time(std::string& out, std::chrono::system_clock::time_point t) {
    const auto secs = std::chrono::system_clock::to_time_t(t);
    const auto millis =
        std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() % 1000;
    std::tm utc{};
    gmtime_r(&secs, &utc);
    char stamp[32];
    const auto n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
    out.append(stamp, n);
    out += '.';
    out += static_cast<char>('0' + millis / 100);
    out += static_cast<char>('0' + millis / 10 % 10);
    out += static_cast<char>('0' + millis % 10);
    out += 'Z';
}

template <class N>
void append_number(std::string& out, N n) {
    std::array<char, 32> digits{};
    const auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size(), n);
    out.append(digits.data(), ec == std::errc{} ? end : digits.data());
}

// Numbers and booleans print the same in both formats; JSON has no NaN or infinity.
void append_scalar(std::string& out, const log_value& v) {
    switch (v.type()) {
        case log_value::kind::integer:
            append_number(out, v.integer());
            break;
        case log_value::kind::unsigned_integer:
            append_number(out, v.unsigned_integer());
            break;
        case log_value::kind::real:
            if (std::isfinite(v.real())) {
                append_number(out, v.real());  // the shortest form that reads back the same
            } else {
                out += "null";
            }
            break;
        case log_value::kind::boolean:
            out += v.boolean() ? "true" : "false";
            break;
        case log_value::kind::text:
            break;
    }
}

bool is_control(unsigned char c) noexcept {
    return c < 0x20 || c == 0x7f;
}

// A text value goes bare when that cannot be misread: no space, quote, '=', backslash or
// control character; else it is quoted like a JSON string.
bool needs_quotes(std::string_view text) noexcept {
    if (text.empty()) return true;
    for (unsigned char c : text) {
        if (c == ' ' || c == '"' || c == '=' || c == '\\' || is_control(c)) return true;
    }
    return false;
}

// The message of a text line: as written, but never a second line.
void append_single_line(std::string& out, std::string_view text) {
    for (unsigned char c : text) {
        if (!is_control(c)) {
            out += static_cast<char>(c);
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else {
            static constexpr char hex[] = "0123456789abcdef";
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 0xf];
        }
    }
}

template <class Each>
void for_each_field(const log_record& r, Each each) {
    for (const auto& f : r.context) each(f);
    for (const auto& f : r.fields) each(f);
}

}  // namespace

std::string format_text(const log_record& r) {
    std::string line;
    line.reserve(64 + r.message.size() + 48 * (r.context.size() + r.fields.size()));
    append_time(line, r.time);
    line += ' ';
    line += to_string(r.level);
    line += ' ';
    append_single_line(line, r.message);
    for_each_field(r, [&](const log_field& f) {
        line += ' ';
        append_single_line(line, f.key);
        line += '=';
        if (f.value.type() != log_value::kind::text) {
            append_scalar(line, f.value);
        } else if (needs_quotes(f.value.text())) {
            detail::append_json_string(line, f.value.text());
        } else {
            line += f.value.text();
        }
    });
    return line;
}

std::string format_json(const log_record& r) {
    std::string line;
    line.reserve(80 + r.message.size() + 48 * (r.context.size() + r.fields.size()));
    line += R"({"time":")";
    append_time(line, r.time);
    line += R"(","level":")";
    line += to_string(r.level);
    line += R"(","message":)";
    detail::append_json_string(line, r.message);
    for_each_field(r, [&](const log_field& f) {
        line += ',';
        detail::append_json_string(line, f.key);
        line += ':';
        if (f.value.type() == log_value::kind::text) {
            detail::append_json_string(line, f.value.text());
        } else {
            append_scalar(line, f.value);
        }
    });
    line += '}';
    return line;
}

logger::logger() : line_sink_(&write_to_stderr) {}

void logger::set_sink(line_sink s) {
    record_sink_ = nullptr;
    line_sink_ = s ? std::move(s) : line_sink([](log_level, std::string_view) {});
}

void logger::set_sink(record_sink s) {
    if (!s) {
        set_sink(line_sink{});
        return;
    }
    record_sink_ = std::move(s);
    line_sink_ = nullptr;
}

void logger::log(log_level l, std::string_view message, fields f) const {
    write(l, message, {}, {f.begin(), f.size()});
}

void logger::write(log_level l, std::string_view message, std::span<const log_field> context,
                   std::span<const log_field> own) const {
    if (!enabled(l)) return;
    try {
        const log_record record{std::chrono::system_clock::now(), l, message, context, own};
        if (record_sink_) {
            record_sink_(record);
        } else {
            line_sink_(l, format_ == log_format::json ? format_json(record) : format_text(record));
        }
    } catch (...) {
        // A failing sink must never take a request down with it.
    }
}

void write_to_stderr(log_level, std::string_view line) {
    std::string out;
    out.reserve(line.size() + 1);
    out += line;
    out += '\n';
    const char* p = out.data();
    std::size_t left = out.size();
    while (left > 0) {
        const auto w = ::write(STDERR_FILENO, p, left);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return;
        p += w;
        left -= static_cast<std::size_t>(w);
    }
}

}  // namespace keel
