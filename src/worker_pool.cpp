#include "worker_pool.hpp"

namespace keel::detail {

namespace {
thread_local worker_pool* this_thread_pool = nullptr;
thread_local io_resumer* this_thread_resumer = nullptr;
}  // namespace

void bind_io_thread(worker_pool* pool, io_resumer* resumer) noexcept {
    this_thread_pool = pool;
    this_thread_resumer = resumer;
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

worker_pool::worker_pool(unsigned threads, std::size_t queue_limit) : queue_limit_(queue_limit) {
    threads_.reserve(threads);
    for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
}

worker_pool::~worker_pool() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    ready_.notify_all();
    for (auto& t : threads_) t.join();
}

bool worker_pool::try_submit(blocking_job& job) {
    {
        std::lock_guard lock(mutex_);
        if (queue_.size() >= queue_limit_) return false;
        queue_.push_back(&job);
    }
    ready_.notify_one();
    return true;
}

void worker_pool::work() {
    for (;;) {
        blocking_job* job = nullptr;
        {
            std::unique_lock lock(mutex_);
            ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return;  // stopping, and nothing left to do
            job = queue_.front();
            queue_.pop_front();
        }
        job->run(*job);
        static_cast<io_resumer*>(job->origin)->resume_later(job->continuation);
    }
}

}  // namespace keel::detail
