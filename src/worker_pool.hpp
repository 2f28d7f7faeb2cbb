#pragma once

// The pool of threads that run blocking work (plain handlers, keel::offload) so that the
// I/O threads never wait on a database or a disk.

#include <keel/detail/blocking.hpp>

#include <condition_variable>
#include <coroutine>
#include <cstddef>
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

class worker_pool {
public:
    worker_pool(unsigned threads, std::size_t queue_limit);
    ~worker_pool();  // finishes queued jobs, then joins
    worker_pool(const worker_pool&) = delete;
    worker_pool& operator=(const worker_pool&) = delete;

    /// Queues a job whose `origin` is an io_resumer; false when the queue is full.
    bool try_submit(blocking_job& job);

private:
    void work();

    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<blocking_job*> queue_;
    std::size_t queue_limit_;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

/// Called by each I/O thread of a server once: where its blocking jobs go and come back to.
void bind_io_thread(worker_pool* pool, io_resumer* resumer) noexcept;

}  // namespace keel::detail
