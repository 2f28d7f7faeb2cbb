#include "http/worker_pool.hpp"

#include <algorithm>

namespace keel::detail {

namespace {
constexpr auto stall_after = std::chrono::milliseconds(15);  // no job finished for this long: let one more in
constexpr auto settle_after = std::chrono::milliseconds(100);  // jobs flow again: one fewer, this often
}  // namespace

worker_pool::worker_pool(unsigned concurrency, unsigned max_threads, std::size_t queue_limit)
    : queue_limit_(queue_limit),
      concurrency_(std::max(1u, concurrency)),
      max_threads_(std::max(concurrency_, max_threads)),
      allowed_(concurrency_),
      last_progress_(clock::now()) {
    threads_.reserve(max_threads_);
    for (unsigned i = 0; i < concurrency_; ++i) threads_.emplace_back([this] { work(); });
    supervisor_thread_ = std::thread([this] { supervise(); });
}

worker_pool::~worker_pool() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        supervisor_idle_ = false;
    }
    ready_.notify_all();
    supervisor_.notify_all();
    supervisor_thread_.join();  // after this, threads_ no longer grows
    for (auto& t : threads_) t.join();
}

bool worker_pool::try_submit(blocking_job& job) {
    {
        std::lock_guard lock(mutex_);
        if (queue_.size() >= queue_limit_) {
            ++refused_;
            return false;
        }
        queue_.push_back(&job);
        if (supervisor_idle_) {
            supervisor_idle_ = false;
            supervisor_.notify_one();
        }
    }
    ready_.notify_one();
    return true;
}

worker_pool::statistics worker_pool::stats() const {
    std::lock_guard lock(mutex_);
    return {threads_.size(), allowed_, active_, queue_.size(), refused_};
}

unsigned worker_pool::allowed() const {
    std::lock_guard lock(mutex_);
    return allowed_;
}

void worker_pool::work() {
    std::unique_lock lock(mutex_);
    for (;;) {
        ready_.wait(lock, [this] { return stopping_ || may_start_job(); });
        if (!may_start_job()) return;  // stopping, and nothing left to do
        auto* job = queue_.front();
        queue_.pop_front();
        ++active_;
        lock.unlock();
        // A job without a continuation is nobody's to resume: it frees itself in run().
        const auto continuation = job->continuation;
        auto* origin = static_cast<io_resumer*>(job->origin);
        job->run(*job);
        if (continuation) origin->resume_later(continuation);
        lock.lock();
        --active_;
        last_progress_ = clock::now();
    }
}

void worker_pool::supervise() {
    std::unique_lock lock(mutex_);
    auto last_change = clock::now();
    while (!stopping_) {
        if (queue_.empty() && allowed_ == concurrency_) {
            supervisor_idle_ = true;  // nothing to watch: sleep until a job arrives
            supervisor_.wait(lock, [this] { return stopping_ || !supervisor_idle_; });
            continue;
        }
        supervisor_.wait_for(lock, stall_after, [this] { return stopping_; });
        const auto now = clock::now();
        const bool stalled = !queue_.empty() && active_ >= allowed_ && now - last_progress_ >= stall_after;
        const bool flowing = now - last_progress_ < stall_after;
        if (stalled && allowed_ < max_threads_) {
            ++allowed_;
            if (threads_.size() < allowed_) threads_.emplace_back([this] { work(); });
            last_progress_ = last_change = now;  // give the new one time to show progress
            ready_.notify_one();
        } else if (flowing && allowed_ > concurrency_ && now - last_change >= settle_after) {
            --allowed_;  // a thread above the limit finishes its job and then waits
            last_change = now;
        }
    }
}

}  // namespace keel::detail
