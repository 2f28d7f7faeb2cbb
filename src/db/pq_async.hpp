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
#include <span>

namespace keel::detail::pq {

/// A libpq connection's socket, watched by an event loop for as long as this lives. libpq
/// owns the descriptor: this never closes it, only stops watching it.
class socket_watch {
public:
    socket_watch(boost::asio::io_context& loop, PGconn* c);
    ~socket_watch();
    socket_watch(const socket_watch&) = delete;
    socket_watch& operator=(const socket_watch&) = delete;

    struct wait;
    /// Resumes when the socket is readable; with `or_writable`, also when it is writable
    /// (whichever comes first). An error of the wait itself is a lost connection.
    wait until_ready(bool or_writable) noexcept;

    boost::asio::posix::stream_descriptor& descriptor() noexcept { return descriptor_; }

private:
    boost::asio::posix::stream_descriptor descriptor_;
    PGconn* connection_;
};

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
    enum class kind : unsigned char { statement, prepare, execute };
    kind what = kind::statement;
    const char* text = nullptr;  // statement: the SQL; prepare: the SQL to prepare
    const char* name = nullptr;  // prepare, execute: the prepared statement's name
    params bound;                // execute: its parameters
};

/// Sends `steps` in one pipeline (one round trip) and reads every result; returns the last
/// step's. Throws the first failure as keel's typed exception (setting `broken` when the
/// connection can no longer be trusted). `completed` counts the leading steps that took
/// effect, also when a later one failed (a BEGIN whose transaction must now be rolled back, a
/// PREPARE that now exists on the connection).
task<result_ptr> run_pipeline(PGconn* c, socket_watch& socket, std::span<const step> steps, bool& broken,
                              std::size_t& completed);

}  // namespace keel::detail::pq
