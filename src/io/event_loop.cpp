#include "io/event_loop.hpp"

#include <keel/detail/blocking.hpp>
#include <keel/sync_wait.hpp>

#include <boost/asio/io_context.hpp>

#include <stdexcept>

namespace keel::detail {

namespace {
thread_local boost::asio::io_context* this_thread_context = nullptr;
}  // namespace

boost::asio::io_context* this_thread_loop() noexcept {
    return this_thread_context;
}

loop_binding::loop_binding(boost::asio::io_context* loop) noexcept : previous_(this_thread_context) {
    this_thread_context = loop;
}

loop_binding::~loop_binding() {
    this_thread_context = previous_;
}

void drive_event_loop(void (*start)(void*), void* work, const bool& finished) {
    if (this_thread_context) {
        throw std::logic_error(
            "keel: sync_wait on a thread that runs an event loop would stall it; co_await the task instead");
    }
    boost::asio::io_context loop(1);
    const loop_binding bound(&loop);
    // The task must not block, as on a server's I/O thread: keel's blocking calls refuse to run
    // here, and keel::offload runs its work inline (there is no worker pool).
    const thread_role io(true);
    start(work);
    while (!finished) {
        if (loop.run_one() == 0) {
            // Nothing is left to wake the task: it waits for something that this thread cannot
            // bring (a task awaited on another loop, say).
            throw std::logic_error("keel: sync_wait: the task is waiting for an event that will never come");
        }
    }
    // Handlers still queued (a timer cancelled by the task's end) belong to this loop: run them
    // now, while what they refer to is alive.
    loop.restart();
    loop.poll();
}

}  // namespace keel::detail
