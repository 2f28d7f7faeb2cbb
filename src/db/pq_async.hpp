#pragma once

// libpq driven without blocking, on the calling thread's event loop: what keel::async_session
// runs its statements with. The connection's socket is watched by the loop's reactor; libpq
// is kept in non-blocking mode, so a send never waits for the network, and a read takes only
// what has arrived. Private to keel.
//
// Connecting, resetting and cancelling block in libpq: they never run here (the engine opens
// connections on the worker pool).

#include <keel/task.hpp>

#include "db/pq.hpp"

#include <boost/asio/posix/stream_descriptor.hpp>

#include <libpq-fe.h>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace keel::detail::pq {

struct loop_watches;  // the watches of one loop, which it lets go of when it shuts down

/// A libpq connection's socket, registered with an event loop's reactor for as long as this
/// lives, or until that loop is destroyed (then the loop lets go of it first). A pooled
/// connection keeps its watch between sessions, so that a session on the same loop as the last
/// one registers nothing: registering and deregistering cost three system calls a transaction.
/// libpq owns the descriptor: this never closes it. Destroy it before the connection closes.
class socket_watch {
public:
    socket_watch(boost::asio::io_context& loop, PGconn* c);
    ~socket_watch();
    socket_watch(const socket_watch&) = delete;
    socket_watch& operator=(const socket_watch&) = delete;

    /// Whether this watches on `loop` (false once its loop has shut down). Any thread.
    bool watches_on(const boost::asio::io_context& loop) const;
    /// Whether its loop has shut down (it watches nothing any more).
    bool orphaned() const;

    struct wait;
    /// Resumes when the socket is readable; with `or_writable`, also when it is writable
    /// (whichever comes first). An error of the wait itself is a lost connection. On the
    /// watch's loop only.
    wait until_ready(bool or_writable) noexcept;

private:
    friend struct loop_watches;
    void let_go() noexcept;  // under the loop's lock

    std::shared_ptr<loop_watches> loop_watches_;
    const boost::asio::io_context* loop_;
    std::optional<boost::asio::posix::stream_descriptor> descriptor_;
};

/// The watch of `c`'s socket on `loop`, among those `kept` (one per loop that served the
/// connection: connections pass between I/O threads, and registering again each time would
/// cost five system calls); a new one if none is. Watches of loops that shut down are dropped.
/// Also puts libpq in non-blocking mode; give_back_blocking() undoes that when the session is
/// done with the connection.
socket_watch& watch_on(std::vector<std::shared_ptr<socket_watch>>& kept, boost::asio::io_context& loop,
                       PGconn* c);
void give_back_blocking(PGconn* c) noexcept;

struct socket_watch::wait {
    socket_watch* watch;
    bool or_writable;
    int pending = 0;  // waits not yet completed
    bool failed = false;
    std::coroutine_handle<> resume;

    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h);
    /// True when the socket is ready; false when the wait itself failed.
    bool await_resume() const noexcept { return !failed; }
};

/// One message of a pipeline.
struct step {
    enum class kind : unsigned char { statement, prepare, execute, unnamed };
    kind what = kind::statement;
    const char* text = nullptr;  // statement, unnamed: the SQL; prepare: the SQL to prepare
    const char* name = nullptr;  // prepare, execute: the prepared statement's name
    params bound;                // execute, unnamed: its parameters
};

/// Sends `steps` in one pipeline (one round trip) and reads every result; returns them all, in
/// order. Throws the first failure as keel's typed exception (setting `broken` when the
/// connection can no longer be trusted). `progress` says how far it got, also when it threw.
task<std::vector<result_ptr>> run_pipeline(PGconn* c, socket_watch& socket, std::span<const step> steps,
                                           bool& broken, pipeline_progress& progress);

/// Sends `sql` (one or more statements without parameters, `;`-separated) as one simple query:
/// the cheapest message PostgreSQL parses, for COMMIT and ROLLBACK. Reads every result;
/// returns the last one; throws the first failure like run_pipeline.
task<result_ptr> run_simple(PGconn* c, socket_watch& socket, const std::string& sql, bool& broken);
/// The same, giving every result in order, failed ones included (PostgreSQL runs none after the
/// first failure); throws only when none came (the connection failed).
task<std::vector<result_ptr>> run_each(PGconn* c, socket_watch& socket, const std::string& sql, bool& broken);

}  // namespace keel::detail::pq
