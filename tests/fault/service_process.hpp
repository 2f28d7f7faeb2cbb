#pragma once

// A server program of the deployment topology (PgBouncer, HAProxy) run by a test: started with
// its arguments, awaited until its port accepts, stopped (SIGTERM, then SIGKILL) when destroyed.

#include <sys/types.h>
#include <chrono>
#include <string>
#include <vector>

namespace keel_fault {

/// A directory of the test's own for configuration files, readable by the `postgres` user
/// (PgBouncer refuses to run as root); removed when destroyed.
class scratch_directory {
public:
    scratch_directory();
    ~scratch_directory();
    scratch_directory(const scratch_directory&) = delete;
    scratch_directory& operator=(const scratch_directory&) = delete;
    const std::string& path() const noexcept { return path_; }
    /// Writes `text` to `name` in the directory; returns its path.
    std::string write(const std::string& name, const std::string& text) const;

private:
    std::string path_;
};

class service_process {
public:
    /// Runs `argv` (argv[0] an absolute path) with `env` (`NAME=value`) added to the test's
    /// environment, as the `postgres` user when `as_postgres` and the test runs as root, and
    /// waits up to 15 s until 127.0.0.1:`port` accepts.
    service_process(std::vector<std::string> argv, unsigned short port, bool as_postgres = false,
                    std::vector<std::string> env = {});
    ~service_process();
    service_process(const service_process&) = delete;
    service_process& operator=(const service_process&) = delete;

    pid_t pid() const noexcept { return pid_; }
    void signal(int sig) const;

private:
    pid_t pid_ = -1;
};

/// Whether 127.0.0.1:`port` accepts a TCP connection now.
bool port_accepts(unsigned short port);

/// Host, port and database name of a `postgresql://user@host:port/db` URL.
struct url_parts {
    std::string user, host, database;
    unsigned short port = 0;
};
url_parts parse_database_url(const std::string& url);

}  // namespace keel_fault
