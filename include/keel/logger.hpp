#pragma once

#include <functional>
#include <string_view>

namespace keel {

enum class log_level { debug, info, warning, error, off };

/// Where keel's messages go: the access log, errors that escaped handlers, start-up and
/// shut-down. By default, lines to stderr at `info` and above; `set_sink` redirects them
/// (to your logging library, or nowhere) and `set_level` filters them.
///
/// Configure it before the server starts; after that `log` may be called from any thread and
/// the sink must be thread safe.
class logger {
public:
    using sink = std::function<void(log_level, std::string_view message)>;

    logger();

    void set_sink(sink s);
    void set_level(log_level min_level) noexcept { level_ = min_level; }
    log_level level() const noexcept { return level_; }
    bool enabled(log_level l) const noexcept { return l >= level_ && level_ != log_level::off; }

    void log(log_level l, std::string_view message) const;
    void debug(std::string_view message) const { log(log_level::debug, message); }
    void info(std::string_view message) const { log(log_level::info, message); }
    void warning(std::string_view message) const { log(log_level::warning, message); }
    void error(std::string_view message) const { log(log_level::error, message); }

private:
    sink sink_;
    log_level level_ = log_level::info;
};

/// The default sink: one line per message on stderr, "2026-11-27T11:44:03.123Z info message".
void write_to_stderr(log_level l, std::string_view message);

}  // namespace keel
