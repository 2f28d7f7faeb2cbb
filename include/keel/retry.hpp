#pragma once

#include <keel/database_error.hpp>

#include <chrono>
#include <type_traits>
#include <utility>

namespace keel {

/// How often, and how patiently, to retry work that PostgreSQL refused with a serialization
/// failure or a deadlock (SQLSTATE class 40).
struct retry_policy {
    int attempts = 3;                          ///< tries in all, the first included
    std::chrono::milliseconds base_delay{5};   ///< before the second try; doubles each time
    std::chrono::milliseconds max_delay{200};  ///< the longest pause
};

namespace detail {
/// Sleeps a random ("full jitter") share of the policy's delay for retry number `attempt` (0-based).
void conflict_backoff(const retry_policy& policy, int attempt);
}  // namespace detail

/// Runs `work` — a whole unit of work that opens its own session — again while it fails with a
/// keel::transaction_conflict, up to the policy's attempts, pausing with jittered back-off.
/// A commit_in_doubt is a connection_lost, not a conflict: it is never retried.
/// ```
/// auto id = keel::retry_on_conflict([&] {
///     auto db = sessions.open();
///     auto id = move_money(db, from, to, amount);
///     db.commit();
///     return id;
/// });
/// ```
template <class F>
decltype(auto) retry_on_conflict(F&& work, retry_policy policy = {}) {
    for (int attempt = 0;; ++attempt) {
        try {
            return work();
        } catch (const transaction_conflict&) {
            if (attempt + 1 >= policy.attempts) throw;
        }
        detail::conflict_backoff(policy, attempt);
    }
}

}  // namespace keel
