#pragma once

#include <chrono>
#include <memory>
#include <string>

namespace keel::testing {

/// A throwaway PostgreSQL server for a test run.
///
/// start() runs `initdb` into a fresh temporary directory (as the `postgres` user when the
/// tests run as root: the server refuses root), then starts the server on a unix socket in that
/// directory and a free loopback port, with durability off for speed (`fsync`,
/// `synchronous_commit`, `full_page_writes`). stop() stops it and deletes the directory; so does
/// the destructor, and a watchdog process does it if the test process dies without either.
///
/// With `KEEL_TEST_DATABASE_URL` set, start() uses that server instead and stop() leaves it.
/// PostgreSQL's binaries are looked up in `PG_BIN`, then /usr/lib/postgresql/15/bin; when
/// they are missing the error names the Debian package to install.
class postgres_server {
public:
    /// Whether KEEL_TEST_DATABASE_URL may stand in for the server this object starts.
    enum class source { environment_or_private, always_private };

    /// `always_private`: this object always runs a server of its own (for tests that restart
    /// it), whatever KEEL_TEST_DATABASE_URL says.
    explicit postgres_server(source where = source::environment_or_private);
    ~postgres_server();  // stops the server; never throws
    postgres_server(const postgres_server&) = delete;
    postgres_server& operator=(const postgres_server&) = delete;

    /// Starts the server (once; later calls do nothing). Throws std::runtime_error with the
    /// server's log when it cannot start.
    void start();
    void stop() noexcept;
    /// Restarts a server this object started (`pg_ctl restart -m fast`): every open connection
    /// breaks, the address stays the same. For recovery tests.
    void restart();

    /// Instead of start(): a streaming replica of `primary` (a server of this kind that was
    /// started, not KEEL_TEST_DATABASE_URL's), copied with `pg_basebackup -R` and started as a
    /// hot standby on a port of its own. `apply_delay` > 0 holds its replay of each commit back
    /// that long (recovery_min_apply_delay), for tests of stale reads.
    void start_as_replica_of(const postgres_server& primary,
                             std::chrono::milliseconds apply_delay = std::chrono::milliseconds(0));
    /// Stops a server this object started, keeping its data and port (`pg_ctl stop -m fast`);
    /// start_again() brings it back. For failover tests.
    void halt();
    void start_again();

    /// libpq URL of the `postgres` database as the `postgres` superuser, over TCP.
    std::string url() const { return url_for("postgres"); }
    /// libpq URL of another database on the same server.
    std::string url_for(const std::string& database) const;
    /// True when the server is one this object started (not KEEL_TEST_DATABASE_URL's).
    bool owned() const noexcept { return owned_; }

private:
    void launch(const std::string& more_options);  // pg_ctl start on impl_'s directory and port

    struct impl;
    std::unique_ptr<impl> impl_;
    source source_;
    bool owned_ = false;
    std::string base_url_;  // without the database name
};

}  // namespace keel::testing
