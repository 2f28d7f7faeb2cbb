#include <keel/logger.hpp>

#include <unistd.h>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

namespace keel {

logger::logger() : sink_(&write_to_stderr) {}

void logger::set_sink(sink s) {
    sink_ = s ? std::move(s) : sink([](log_level, std::string_view) {});
}

void logger::log(log_level l, std::string_view message) const {
    if (!enabled(l)) return;
    try {
        sink_(l, message);
    } catch (...) {
        // A failing sink must never take a request down with it.
    }
}

namespace {
std::string_view level_name(log_level l) noexcept {
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
}  // namespace

void write_to_stderr(log_level l, std::string_view message) {
    const auto now = std::chrono::system_clock::now();
    const auto secs = std::chrono::system_clock::to_time_t(now);
    const auto millis =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm utc{};
    gmtime_r(&secs, &utc);
    char stamp[32];
    const auto n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
    std::string line;
    line.reserve(message.size() + 48);
    line.append(stamp, n);
    char ms[8];
    std::snprintf(ms, sizeof ms, ".%03dZ ", static_cast<int>(millis));
    line += ms;
    line += level_name(l);
    line += ' ';
    line += message;
    line += '\n';
    // One write(2) per line, so lines from different threads never interleave.
    const char* p = line.data();
    std::size_t left = line.size();
    while (left > 0) {
        const auto w = ::write(STDERR_FILENO, p, left);
        if (w <= 0) return;
        p += w;
        left -= static_cast<std::size_t>(w);
    }
}

}  // namespace keel
