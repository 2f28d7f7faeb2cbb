#pragma once

// The lines an app's logger writes, kept for a test to read. The server writes some lines from
// its own threads (the access line once the answer is out), so reads are locked and a test can
// wait a while for a line to come.

#include <keel/logger.hpp>

#include <chrono>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace keel_test {

class captured_log {
public:
    /// Sends `log`'s lines here from now on; this must outlive the logger's use.
    void attach(keel::logger& log) {
        log.set_sink([this](keel::log_level, std::string_view line) {
            std::lock_guard lock(mutex_);
            lines_.emplace_back(line);
        });
    }

    std::vector<std::string> lines() const {
        std::lock_guard lock(mutex_);
        return lines_;
    }

    bool contains(std::string_view text) const {
        std::lock_guard lock(mutex_);
        for (const auto& line : lines_) {
            if (line.find(text) != std::string::npos) return true;
        }
        return false;
    }

    /// Waits until `done(lines())` holds or `deadline` passes; returns whether it held.
    template <class Predicate>
    bool wait_until(Predicate done, std::chrono::milliseconds deadline = std::chrono::seconds(5)) const {
        const auto until = std::chrono::steady_clock::now() + deadline;
        for (;;) {
            if (done(lines())) return true;
            if (std::chrono::steady_clock::now() >= until) return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    }

private:
    mutable std::mutex mutex_;
    std::vector<std::string> lines_;
};

}  // namespace keel_test
