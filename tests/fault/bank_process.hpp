#pragma once

// The example bank as a separate process, for the fault tests: started with a database URL,
// killed or stopped by signals, restarted on the same port.

#include <sys/types.h>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace keel_fault {

class bank_process {
public:
    /// Starts examples/bank's binary on `port` (0: a free one) and waits until /healthz answers.
    /// `env`: more `NAME=value` variables for it.
    bank_process(const std::string& database_url, unsigned short port = 0, std::vector<std::string> args = {},
                 std::vector<std::string> env = {});
    ~bank_process();  // SIGKILL if still running
    bank_process(const bank_process&) = delete;
    bank_process& operator=(const bank_process&) = delete;

    unsigned short port() const noexcept { return port_; }
    pid_t pid() const noexcept { return pid_; }
    void signal(int sig) const;
    /// The exit status when the process ended within `timeout` (128 + signal when killed).
    std::optional<int> wait_exit(std::chrono::milliseconds timeout);
    /// Peak and current resident memory (KiB) and open file descriptors, from /proc.
    long rss_kib() const;
    long open_fds() const;

private:
    pid_t pid_ = -1;
    unsigned short port_ = 0;
};

}  // namespace keel_fault
