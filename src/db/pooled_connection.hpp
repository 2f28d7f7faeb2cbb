#pragma once

// What the engine pools: one PostgreSQL connection and its bookkeeping. Private to keel.
//
// libpqxx opens and closes the connection. keel's sessions then talk to its libpq handle
// directly: that lets a session send its BEGIN in one round trip with its first statement
// (libpq's pipeline mode), which libpqxx 6.4 cannot express, and keeps result handling to
// the few calls keel needs. Nothing else uses the connection through libpqxx afterwards, so
// libpqxx never reconnects it behind keel's back.

#include <keel/engine.hpp>

#include "db/statement_cache.hpp"

#include <libpq-fe.h>
#include <chrono>
#include <functional>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <string_view>
#include <vector>

namespace keel::detail {

/// libpqxx's direct connection policy, remembering the libpq handle it made.
class handle_capturing_connect : public pqxx::connect_direct {
public:
    explicit handle_capturing_connect(const std::string& options) : pqxx::connect_direct(options) {}
    handle do_startconnect(handle orig) override {
        handle h = pqxx::connect_direct::do_startconnect(orig);
        last_handle() = h;
        return h;
    }
    /// The handle made last on this thread (read right after constructing a connection).
    static handle& last_handle() {
        thread_local handle h = nullptr;
        return h;
    }
};
using pq_connection = pqxx::basic_connection_base<handle_capturing_connect>;

struct session_origin;
namespace pq {
class socket_watch;  // src/db/pq_async.hpp
}

struct pooled_connection {
    pooled_connection() = default;
    pooled_connection(const pooled_connection&) = delete;
    pooled_connection& operator=(const pooled_connection&) = delete;

    std::unique_ptr<pq_connection> connection;
    PGconn* handle = nullptr;  // the libpq connection inside `connection`
    // What cancels its statement from another thread (PQcancel); shared with a cancel under way.
    std::shared_ptr<PGcancel> cancel;
    int backend_pid = 0;  // the server process, as pg_stat_activity names it
    std::chrono::steady_clock::time_point created;
    std::chrono::steady_clock::time_point last_used;
    // While checked out, under the engine's lock: for whom (null: a bare engine::checkout),
    // since when, and whether it was reported as held too long.
    const session_origin* holder = nullptr;
    std::chrono::steady_clock::time_point lent_at;
    bool reported_held = false;
    // The statements prepared on it (none behind a transaction pooler).
    statement_cache statements;
    // The event loop of the last awaited session that used it (an opaque tag): the pool hands
    // it to that loop's sessions first.
    const void* affinity = nullptr;
    // The event loops watching its socket for awaited sessions (one watch per loop), kept
    // between sessions. Last: destroyed first, before `connection` closes the socket.
    std::vector<std::shared_ptr<pq::socket_watch>> watches;

    bool is_open() const noexcept { return handle && PQstatus(handle) == CONNECTION_OK; }
};

}  // namespace keel::detail
