#pragma once

// The pool of threads that run blocking work (plain handlers, keel::offload) so that the
// I/O threads never wait on a database or a disk.

#include <keel/detail/blocking.hpp>

#include <chrono>
#include <condition_variable>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

namespace keel::detail {

/// Something that resumes a coroutine later on its own I/O thread.
class io_resumer {
public:
    virtual void resume_later(std::coroutine_handle<> h) noexcept = 0;

protected:
    ~io_resumer() = default;
};

/// Runs blocking jobs with as few threads at once as keep the work flowing.
///
/// `concurrency` workers run jobs while jobs finish; when jobs wait and none has finished for
/// a few milliseconds (every running job is blocked: slow queries, a lock, a sleeping call),
/// the supervisor lets one more thread in, up to `max_threads`, and lowers the number again
/// once jobs flow. Why: on a small machine, dozens of threads each doing a short database
/// round trip spend their time in the scheduler (measured: 32 fixed workers served the bank's
/// GET /users/{id} at ~7k req/s with a p99 of 100+ ms; 4 workers at ~9k with 12 ms), while
/// a fixed small pool would leave requests queued behind blocked ones.
class worker_pool {
public:
    worker_pool(unsigned concurrency, unsigned max_threads, std::size_t queue_limit);
    ~worker_pool();  // finishes queued jobs, then joins
    worker_pool(const worker_pool&) = delete;
    worker_pool& operator=(const worker_pool&) = delete;

    /// Queues a job whose `origin` is an io_resumer (or that has no continuation, and frees
    /// itself in run()); false when the queue is full.
    bool try_submit(blocking_job& job);

    /// How many jobs may run at once right now (for tests and statistics).
    unsigned allowed() const;

    struct statistics {
        std::size_t threads = 0;    // started
        unsigned allowed = 0;       // jobs that may run at once now
        unsigned busy = 0;          // jobs running
        std::size_t queued = 0;     // jobs waiting for a worker
        std::uint64_t refused = 0;  // jobs refused: the queue was full (answered 503)
    };
    statistics stats() const;

private:
    using clock = std::chrono::steady_clock;

    void work();
    void supervise();
    bool may_start_job() const { return !queue_.empty() && (active_ < allowed_ || stopping_); }

    mutable std::mutex mutex_;
    std::condition_variable ready_;       // workers wait here for a job they may start
    std::condition_variable supervisor_;  // the supervisor sleeps here while nothing waits
    std::deque<blocking_job*> queue_;
    const std::size_t queue_limit_;
    const unsigned concurrency_;
    const unsigned max_threads_;
    unsigned allowed_;
    unsigned active_ = 0;
    std::uint64_t refused_ = 0;
    clock::time_point last_progress_;  // a job finished, or the limit was raised
    bool stopping_ = false;
    bool supervisor_idle_ = false;  // asleep until a job is submitted
    std::vector<std::thread> threads_;
    std::thread supervisor_thread_;
};

/// Called by each I/O thread of a server once: where its blocking jobs go and come back to.
void bind_io_thread(worker_pool* pool, io_resumer* resumer) noexcept;

}  // namespace keel::detail
