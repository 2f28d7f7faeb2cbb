// Where blocking work may run: the thread roles behind keel/detail/blocking.hpp.

#include <keel/detail/blocking.hpp>
#include <keel/offload.hpp>

#include "http/worker_pool.hpp"

#include <stdexcept>
#include <string>

namespace keel {

server_busy::server_busy() : std::runtime_error("keel: the worker pool's queue is full") {}
server_busy::server_busy(const char* why) : std::runtime_error(why) {}

namespace detail {

namespace {
thread_local worker_pool* this_thread_pool = nullptr;
thread_local io_resumer* this_thread_resumer = nullptr;
thread_local bool this_thread_is_io = false;
}  // namespace

void bind_io_thread(worker_pool* pool, io_resumer* resumer) noexcept {
    this_thread_pool = pool;
    this_thread_resumer = resumer;
    this_thread_is_io = pool != nullptr;
}

submit_result submit_blocking(blocking_job& job) noexcept {
    // Not an I/O thread (a worker, a test's own thread): blocking here stalls no one else.
    if (!this_thread_pool) return submit_result::run_inline;
    job.origin = this_thread_resumer;
    try {
        return this_thread_pool->try_submit(job) ? submit_result::queued : submit_result::rejected;
    } catch (...) {
        return submit_result::rejected;  // out of memory while queueing
    }
}

bool on_io_thread() noexcept {
    return this_thread_is_io;
}

thread_role::thread_role(bool io) noexcept : previous_(this_thread_is_io) {
    this_thread_is_io = io;
}

thread_role::~thread_role() {
    this_thread_is_io = previous_;
}

void require_blocking_allowed(std::string_view operation) {
    if (!this_thread_is_io) return;
    throw std::logic_error("keel: " + std::string(operation) +
                           " blocks, and this is an I/O thread, where it would stall every connection the "
                           "thread serves. In a coroutine handler or a middleware, wrap the database work in "
                           "co_await keel::offload([&] { ... }); or make the handler a plain function, which "
                           "keel runs on its worker pool");
}

void throw_server_busy() {
    throw server_busy();
}

}  // namespace detail
}  // namespace keel
