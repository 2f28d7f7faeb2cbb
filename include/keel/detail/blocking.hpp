#pragma once

// Blocking work and the threads it may run on. A server's I/O threads must never block (a
// slow query would stall every connection of the thread), so blocking work is handed to the
// worker pool, and keel's own blocking calls (a session's statements, a pool checkout) refuse
// to run on an I/O thread.

#include <coroutine>
#include <string_view>

namespace keel::detail {

// A unit of blocking work handed to the server's worker pool. The worker calls run(), then
// resumes `continuation` on the I/O thread that submitted the job. A job without one is
// fire-and-forget: it must free itself in run(), which may be during the pool's shut-down.
struct blocking_job {
    void (*run)(blocking_job&) noexcept = nullptr;
    std::coroutine_handle<> continuation;
    void* origin = nullptr;  // the submitting I/O thread's context; set by submit_blocking
};

enum class submit_result {
    queued,      // a worker will run it; the caller suspends
    run_inline,  // no worker pool on this thread (in-process test client, a worker itself): run it here
    rejected,    // the pool's queue is full: answer 503
};

submit_result submit_blocking(blocking_job& job) noexcept;

/// Whether the calling thread is an I/O thread: a server's, or a test client's while it drives
/// a request the way a server would.
bool on_io_thread() noexcept;

/// Marks the calling thread as an I/O thread (or, `io` false, as one that may block) for the
/// object's life, then restores what it was.
class thread_role {
public:
    explicit thread_role(bool io) noexcept;
    ~thread_role();
    thread_role(const thread_role&) = delete;
    thread_role& operator=(const thread_role&) = delete;

private:
    bool previous_;
};

/// Throws std::logic_error when called on an I/O thread: `operation` would block it. The
/// message names the fix.
void require_blocking_allowed(std::string_view operation);

/// Throws keel::server_busy (the worker pool's queue is full).
[[noreturn]] void throw_server_busy();

}  // namespace keel::detail
