#pragma once

#include <keel/task.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace keel {

class engine;
namespace detail {
struct pooled_connection;  // a pqxx connection and its bookkeeping; src/engine.cpp
struct engine_state;       // the pool itself, shared with the leases
struct database_counters;  // for the metrics page; src/db/database_counters.hpp
struct session_origin;     // whom a session works for; src/db/session_origin.hpp
class pooled_source;       // a session's transaction on a pooled connection
struct awaited_checkout;   // an async_session's way to the pool; src/db/async_session.cpp
class replica_set;         // the read replicas' pools and their monitor; src/db/replica_set.hpp
database_counters& counters_of(const engine& e) noexcept;
const replica_set* replicas_of(const engine& e) noexcept;
}  // namespace detail

/// How an engine connects and how many connections it keeps; names and defaults are
/// SQLAlchemy's (`create_engine(url, pool_size=10, max_overflow=5, pool_timeout=30, ...)`).
struct engine_options {
    std::string url;               ///< libpq URL or key=value string
    std::size_t pool_size = 10;    ///< connections kept open when idle
    std::size_t max_overflow = 5;  ///< extra connections under load; see overflow_linger
    /// An overflow connection is closed once the pool holds more than pool_size idle ones and it
    /// has sat unused this long (seen when a connection is returned). 0: closed as soon as it is
    /// returned to a pool already holding pool_size idle ones (SQLAlchemy's QueuePool rule),
    /// which under bursty load reopens connections a moment after closing them.
    std::chrono::milliseconds overflow_linger{1'000};
    std::chrono::milliseconds pool_timeout{
        30'000};                                 ///< longest wait for a connection; then pool_timeout (503)
    std::chrono::milliseconds pool_recycle{-1};  ///< close connections older than this (<0: never)
    bool pool_pre_ping = false;                  ///< check an idle connection with a round trip before use
    /// Look at an idle connection's socket before use (no round trip, one system call): one the
    /// server closed (restarted, stopped, backend terminated) is replaced instead of failing its
    /// first statement. Always on for the pools of replica_urls.
    bool pool_peek_before_use = false;
    std::chrono::seconds connect_timeout{10};  ///< libpq connect_timeout, unless the URL sets one
    /// TCP keepalives on every connection (libpq's keepalives_*, unless the URL sets them), so
    /// that a server gone behind a dead network is noticed in idle + count x interval seconds
    /// (11 s), not the kernel's two hours. keepalives_idle <= 0: the system's defaults.
    std::chrono::seconds keepalives_idle{5};
    std::chrono::seconds keepalives_interval{2};
    int keepalives_count = 3;
    /// libpq tcp_user_timeout: how long sent data may stay unacknowledged before the
    /// connection is given up (unless the URL sets it); <= 0: the system's default.
    std::chrono::milliseconds tcp_user_timeout{15'000};
    std::size_t max_waiting = 1000;  ///< requests queued for a connection; beyond: pool_timeout at once
    /// A connection checked out longer than this is logged once (the request, where its session
    /// was opened, how long) and counted; <= 0: never.
    std::chrono::milliseconds leak_threshold{5'000};
    /// A statement slower than this is logged with its text and the request; <= 0: never.
    std::chrono::milliseconds slow_statement_threshold{1'000};
    bool log_statement_parameters = false;  ///< slow-statement lines show the parameters too
    /// The database is reached through a pooler in transaction mode (PgBouncer's
    /// `pool_mode = transaction`, and the like), which gives each transaction whichever server
    /// connection is free: nothing may outlive a transaction. Then no statement is prepared
    /// by name; each is sent unnamed (extended protocol, still parameterised, still in one round
    /// trip with BEGIN). keel itself keeps no other state on a connection (its timeouts are
    /// SET LOCAL). Not detected: a pooler speaks PostgreSQL's protocol and announces nothing.
    bool transaction_pooler = false;
    /// Statements kept prepared on each connection; beyond, the least recently used one is
    /// deallocated. 0: none prepared (each sent unnamed, parsed and planned every time).
    std::size_t statement_cache_size = 256;

    /// Read replicas (libpq URLs, streaming replicas of the primary at `url`). Read-only
    /// sessions go to one of them, round robin; everything else to the primary. A replica that
    /// is down, not in recovery, or lags more than max_replica_lag is skipped (its reads go to
    /// the primary, with a log line and a metric) until a check finds it fit again.
    std::vector<std::string> replica_urls;
    std::chrono::milliseconds max_replica_lag{5'000};
    /// How long a read-only session of a request carrying a read-your-writes token waits for a
    /// replica to replay past it before it goes to the primary instead.
    std::chrono::milliseconds read_your_writes_wait{500};
    /// How often each replica's replay position and the primary's WAL position are read.
    std::chrono::milliseconds replica_check_interval{500};

    /// `DATABASE_URL`, `POOL_SIZE`, `POOL_MAX_OVERFLOW` (the reference contract's variables),
    /// `POOL_TIMEOUT_MS`, `KEEL_LEAK_THRESHOLD_MS`, `KEEL_SLOW_STATEMENT_MS` (0: off),
    /// `KEEL_DB_TRANSACTION_POOLER` (1/0), `KEEL_STATEMENT_CACHE_SIZE`, `DATABASE_REPLICA_URLS`
    /// (URIs separated by spaces), `KEEL_MAX_REPLICA_LAG_MS`, `KEEL_READ_YOUR_WRITES_WAIT_MS` and
    /// `KEEL_REPLICA_CHECK_INTERVAL_MS` over the defaults; std::invalid_argument names a bad value.
    static engine_options from_environment();
};

/// What the pool holds right now, and what it has done.
struct pool_status {
    std::size_t size = 0;  ///< open connections (idle + checked out)
    std::size_t checked_out = 0;
    std::size_t idle = 0;
    std::size_t overflow = 0;   ///< open connections beyond pool_size
    std::size_t waiting = 0;    ///< requests waiting for a connection
    std::size_t timeouts = 0;   ///< waits that ended in pool_timeout
    std::size_t created = 0;    ///< connections ever opened
    std::size_t discarded = 0;  ///< connections closed because they broke, aged out or failed a ping
};

/// The PostgreSQL connection pool: an app-scoped service made once (in the lifespan), shared
/// by every request. Thread safe.
///
/// Waiters are served first come, first served. A connection reported broken (server
/// restarted, backend terminated) is closed and never handed out again; the pool opens a new
/// one on demand, so the service recovers by itself when PostgreSQL is back.
///
/// A watcher thread logs each connection checked out longer than leak_threshold, once; a
/// checkout that times out logs the longest-held connections (at most once a second). The
/// lines go to the logger of the app the session was opened for (keel's own, on stderr,
/// outside any app).
class engine {
public:
    /// A checked-out connection; returned to the pool when destroyed.
    class lease {
    public:
        lease(lease&& other) noexcept;
        lease& operator=(lease&& other) noexcept;
        lease(const lease&) = delete;
        lease& operator=(const lease&) = delete;
        ~lease();

        /// The connection failed in a way that may have left it unusable: close it on return.
        void mark_broken() noexcept { broken_ = true; }
        detail::pooled_connection& connection() const noexcept { return *connection_; }

    private:
        friend class engine;
        lease(std::shared_ptr<detail::engine_state> state,
              std::unique_ptr<detail::pooled_connection> c) noexcept;
        std::shared_ptr<detail::engine_state> state_;
        std::unique_ptr<detail::pooled_connection> connection_;
        bool broken_ = false;
    };

    explicit engine(engine_options options);
    ~engine();  // dispose(0): closes everything; never throws
    engine(const engine&) = delete;
    engine& operator=(const engine&) = delete;

    /// A connection, waiting up to pool_timeout. Throws keel::pool_timeout (503), or
    /// keel::connection_lost (503) when the server cannot be reached or refuses. Blocks: call it from a
    /// worker, never from an I/O thread.
    lease checkout();
    /// The same, waiting at most `max_wait` (and never longer than pool_timeout): for callers
    /// that must answer sooner, like a readiness probe.
    lease checkout(std::chrono::milliseconds max_wait);

    /// Stops handing out connections, closes the idle ones, waits up to `grace` for the
    /// checked-out ones to come back (closing each as it does), then returns. Waiters get
    /// pool_timeout. Idempotent.
    void dispose(std::chrono::milliseconds grace = std::chrono::seconds(10)) noexcept;

    pool_status status() const;
    const engine_options& options() const noexcept;

private:
    friend detail::database_counters& detail::counters_of(const engine& e) noexcept;
    friend const detail::replica_set* detail::replicas_of(const engine& e) noexcept;
    friend class detail::pooled_source;
    friend struct detail::awaited_checkout;
    // checkout(max_wait) for a session: the pool's leak and timeout lines name `holder`.
    lease checkout(std::chrono::milliseconds max_wait, const detail::session_origin* holder);
    // The same for an async_session, awaited on the calling thread's event loop: no thread
    // waits while the pool is empty; connecting happens on the worker pool.
    task<lease> checkout_async(std::chrono::milliseconds max_wait, const detail::session_origin* holder);
    // For a read-only session: a replica's connection when one is usable and has replayed past
    // `read_after` (a WAL position; 0: any), else the primary's. `replica` says which replica's
    // pool it came from (null: the primary's).
    lease checkout_for_read(std::chrono::milliseconds max_wait, const detail::session_origin* holder,
                            std::uint64_t read_after, engine*& replica);
    task<lease> checkout_for_read_async(std::chrono::milliseconds max_wait,
                                        const detail::session_origin* holder, std::uint64_t read_after,
                                        engine*& replica);
    // A statement on a connection from `replica` failed because the connection was lost: its
    // reads go to the primary until the monitor finds it fit again.
    void replica_failed(engine* replica, const std::string& why) noexcept;
    std::shared_ptr<detail::engine_state> state_;
    std::unique_ptr<detail::replica_set> replicas_;  // null without replica_urls
};

}  // namespace keel
