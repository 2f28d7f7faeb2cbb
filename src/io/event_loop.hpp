#pragma once

// The calling thread's event loop: the io_context a server's I/O thread runs, or the private
// one that keel::sync_wait and the in-process test client run while they drive a task.
// keel's awaited database calls wait for their sockets on it. Private to keel.

namespace boost::asio {
class io_context;
}

namespace keel::detail {

/// The loop the calling thread runs, or null on a thread that runs none (a worker, a test's
/// own thread outside the test client).
boost::asio::io_context* this_thread_loop() noexcept;

/// Marks the calling thread as running `loop` for the object's life, then restores what it
/// was.
class loop_binding {
public:
    explicit loop_binding(boost::asio::io_context* loop) noexcept;
    ~loop_binding();
    loop_binding(const loop_binding&) = delete;
    loop_binding& operator=(const loop_binding&) = delete;

private:
    boost::asio::io_context* previous_;
};

}  // namespace keel::detail
