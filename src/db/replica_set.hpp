#pragma once

// The read replicas of an engine: a pool for each, and a monitor thread that keeps knowing how
// far each has replayed and how far behind the primary it is. Read-only sessions ask it for a
// replica; it answers with one that is up, not lagging more than max_replica_lag, and (for a
// request carrying a read-your-writes token) past the token — or with none, and the session
// goes to the primary. Private to keel.

#include <keel/engine.hpp>
#include <keel/task.hpp>

#include "db/read_position.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace prometheus {
struct MetricFamily;
}

namespace keel::detail {

class replica_set {
public:
    /// Opens nothing yet: pools connect on demand, the monitor checks at once and then every
    /// replica_check_interval.
    explicit replica_set(const engine_options& primary);
    ~replica_set();  // stops the monitor, disposes the pools
    replica_set(const replica_set&) = delete;
    replica_set& operator=(const replica_set&) = delete;

    /// Why a read went to the primary.
    enum class fallback : unsigned char { none_usable, behind_token, checkout_failed };

    /// A replica's pool for a read-only session that must see `read_after` (0: any state),
    /// waiting up to read_your_writes_wait for one to replay that far; null: use the primary
    /// (counted, by reason). Blocks (a worker's call).
    keel::engine* choose(wal_position read_after);
    /// The same without blocking the event loop: polls on a timer of the calling thread's loop.
    task<keel::engine*> choose_async(wal_position read_after);
    /// A connection to `replica` failed (its checkout, or a statement on it): it is skipped
    /// until the monitor sees it answer again.
    void checkout_failed(keel::engine* replica, const std::string& why) noexcept;

    /// The replicas' families for the metrics page.
    void collect(std::vector<prometheus::MetricFamily>& out) const;
    void dispose(std::chrono::milliseconds grace) noexcept;

private:
    struct replica;
    struct primary_sample {
        std::chrono::steady_clock::time_point at;
        wal_position written;
    };

    // One usable replica past `read_after`, round robin; null if none.
    replica* pick(wal_position read_after);
    bool any_usable() const noexcept;
    void monitor();
    void check_primary();
    void check(replica& r);
    std::chrono::milliseconds lag_of(wal_position replayed) const;
    void set_usable(replica& r, bool usable, const std::string& why);

    engine_options options_;  // the primary's
    std::vector<std::unique_ptr<replica>> replicas_;
    std::atomic<std::size_t> next_{0};
    std::atomic<int> waiting_{0};  // reads waiting for a replica to reach their token
    std::atomic<std::uint64_t> fallbacks_[3] = {};
    std::atomic<std::uint64_t> token_waits_{0};

    // The monitor's own; the samples are the primary's written WAL position over the last
    // max_replica_lag (and a little), to tell how far in time a replica's replay lags.
    struct pq_conn;
    std::unique_ptr<pq_conn> primary_;
    std::vector<primary_sample> samples_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace keel::detail
