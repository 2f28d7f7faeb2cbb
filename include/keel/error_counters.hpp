#pragma once

#include <cstdint>

namespace keel {

/// How many requests ended in each kind of failure since the app was made, as counted by the
/// request pipeline (read with `app.error_counters()`; ready to export as metrics).
struct error_counters {
    /// The connection broke during COMMIT: the client was told the outcome is unknown (500).
    std::uint64_t commit_outcome_unknown = 0;
    /// The database was unreachable, or the connection broke before COMMIT (503, Retry-After).
    std::uint64_t database_unavailable = 0;
    /// No pooled connection within pool_timeout, or the wait queue was full (503, Retry-After).
    std::uint64_t pool_exhausted = 0;
    /// The request's deadline ran out in the database: a statement was cancelled, or no time
    /// was left for the next one (504; rolled back).
    std::uint64_t deadline_exceeded = 0;
    /// The worker pool's queue was full, or the request's deadline passed while it waited for
    /// a worker (503, Retry-After).
    std::uint64_t server_busy = 0;
    /// Anything else that escaped a handler (500).
    std::uint64_t unhandled = 0;
    /// Handlers run again by `route.retry_on_conflict()` after a serialization failure (40001)
    /// or a deadlock (40P01): each retry once, whatever the final outcome.
    std::uint64_t retried_serialization_failure = 0;
    std::uint64_t retried_deadlock = 0;
};

}  // namespace keel
