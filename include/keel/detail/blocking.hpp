#pragma once

#include <coroutine>

namespace keel::detail {

// A unit of blocking work handed to the server's worker pool. The worker calls run(), then
// resumes `continuation` on the I/O thread that submitted the job.
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

}  // namespace keel::detail
