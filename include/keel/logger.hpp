#pragma once

#include <chrono>
#include <concepts>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace keel {

enum class log_level { debug, info, warning, error, off };

/// How the built-in sinks write a record: today's human line, or one JSON object per line.
enum class log_format { text, json };

/// "debug", "info", "warning", "error", "off".
std::string_view to_string(log_level l) noexcept;
/// The inverse of to_string (and "warn"); nullopt for anything else.
std::optional<log_level> parse_log_level(std::string_view name) noexcept;

/// The value of one field of a log line: text, a whole number, a real number or a boolean.
/// Text is viewed, not copied: a field lives only as long as the call that logs it.
class log_value {
public:
    enum class kind : std::uint8_t { text, integer, unsigned_integer, real, boolean };

    log_value(std::string_view text) noexcept : kind_(kind::text), text_(text) {}
    log_value(const char* text) noexcept : kind_(kind::text), text_(text) {}
    log_value(const std::string& text) noexcept : kind_(kind::text), text_(text) {}
    template <std::signed_integral T>
    log_value(T n) noexcept : kind_(kind::integer), integer_(n) {}
    template <std::unsigned_integral T>
    requires(!std::same_as<T, bool>) log_value(T n)
    noexcept : kind_(kind::unsigned_integer), unsigned_(n) {}
    template <std::floating_point T>
    log_value(T x) noexcept : kind_(kind::real), real_(static_cast<double>(x)) {}
    template <std::same_as<bool> T>  // a template, so that a pointer never converts to it
    log_value(T b) noexcept : kind_(kind::boolean), boolean_(b) {}

    kind type() const noexcept { return kind_; }
    std::string_view text() const noexcept { return text_; }
    std::int64_t integer() const noexcept { return integer_; }
    std::uint64_t unsigned_integer() const noexcept { return unsigned_; }
    double real() const noexcept { return real_; }
    bool boolean() const noexcept { return boolean_; }

private:
    kind kind_;
    std::string_view text_;
    union {
        std::int64_t integer_ = 0;
        std::uint64_t unsigned_;
        double real_;
        bool boolean_;
    };
};

/// A duration as a field's value: milliseconds, to the microsecond (`duration_ms=0.412`).
double log_milliseconds(std::chrono::nanoseconds d) noexcept;

/// One `key=value` of a log line. Keys are plain words (`user_id`, `amount`); keel's own are
/// listed in docs/observability.md.
struct log_field {
    std::string_view key;
    log_value value;
};

/// One line of log as a sink receives it, before it is formatted.
struct log_record {
    std::chrono::system_clock::time_point time;
    log_level level = log_level::info;
    std::string_view message;
    /// What names the request the line is about (request_id, trace_id, span_id, method, route),
    /// empty outside a request; then the caller's own fields.
    std::span<const log_field> context;
    std::span<const log_field> fields;
};

/// `2026-12-05T06:30:00.123Z info message key=value key="a value"`: values with spaces, quotes,
/// '=' or control characters are quoted and escaped as JSON strings, and so are control
/// characters in the message, so that one record is always one line.
std::string format_text(const log_record& r);
/// `{"time":"2026-12-05T06:30:00.123Z","level":"info","message":"...","request_id":...}`:
/// one JSON object, valid UTF-8 (invalid bytes become U+FFFD), no newline.
std::string format_json(const log_record& r);

/// Where keel's messages go: the access log, errors that escaped handlers, start-up and
/// shut-down, and whatever the app logs through it (or through a keel::request_logger, which
/// adds the request's id and trace to every line). By default, lines to stderr at `info` and
/// above, in text; `set_format` picks JSON lines, `set_level` filters, `set_sink` redirects
/// (to your logging library, or nowhere).
///
/// Configure it before the server starts; after that `log` may be called from any thread and
/// the sink must be thread safe.
class logger {
public:
    /// Receives each line already formatted (text or JSON, per format()), without its newline.
    using line_sink = std::function<void(log_level, std::string_view line)>;
    /// Receives each record unformatted: its fields, to hand to another structured logger.
    using record_sink = std::function<void(const log_record&)>;
    using fields = std::initializer_list<log_field>;

    logger();

    void set_sink(line_sink s);
    void set_sink(record_sink s);
    void set_format(log_format f) noexcept { format_ = f; }
    log_format format() const noexcept { return format_; }
    void set_level(log_level min_level) noexcept { level_ = min_level; }
    log_level level() const noexcept { return level_; }
    bool enabled(log_level l) const noexcept { return l >= level_ && level_ != log_level::off; }

    /// `log.info("transfer refused", {{"account", id}, {"balance", cents}})`.
    void log(log_level l, std::string_view message, fields f = {}) const;
    void debug(std::string_view message, fields f = {}) const { log(log_level::debug, message, f); }
    void info(std::string_view message, fields f = {}) const { log(log_level::info, message, f); }
    void warning(std::string_view message, fields f = {}) const { log(log_level::warning, message, f); }
    void error(std::string_view message, fields f = {}) const { log(log_level::error, message, f); }

    /// The general form: `context` names what the line is about (see log_record).
    void write(log_level l, std::string_view message, std::span<const log_field> context,
               std::span<const log_field> own) const;

private:
    line_sink line_sink_;
    record_sink record_sink_;  // when set, in place of line_sink_
    log_level level_ = log_level::info;
    log_format format_ = log_format::text;
};

/// The default line sink: the line and a newline on stderr, in one write(2), so that lines from
/// different threads do not interleave.
void write_to_stderr(log_level l, std::string_view line);

}  // namespace keel
