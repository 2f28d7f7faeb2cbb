#pragma once

// What an engine's pool and its sessions have done, counted for the metrics page
// (db/database_metrics.hpp) without a lock. Private to keel.

#include <keel/engine.hpp>

#include "metrics/atomic_histogram.hpp"

#include <array>
#include <atomic>
#include <cstdint>

namespace keel::detail {

/// Why the pool closed a connection it had opened.
enum class discard_reason : std::uint8_t { broken, recycled, ping_failed, surplus };
inline constexpr std::size_t discard_reason_count = 4;

struct database_counters {
    static constexpr std::array<double, 12> wait_bounds = {0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05,
                                                           0.1,    0.25,   0.5,   1,     2.5,  5};
    static constexpr std::array<double, 14> statement_bounds = {
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5};

    atomic_histogram<wait_bounds.size()> checkout_wait;            // nanoseconds, for checkouts that got one
    atomic_histogram<statement_bounds.size()> statement_duration;  // nanoseconds, sent to answered
    std::array<std::atomic<std::uint64_t>, discard_reason_count> discarded{};
    std::atomic<std::uint64_t> committed{0};
    std::atomic<std::uint64_t> rolled_back{0};      // a transaction that sent something, undone
    std::atomic<std::uint64_t> in_doubt{0};         // the connection broke during COMMIT
    std::atomic<std::uint64_t> held_too_long{0};    // checkouts held past leak_threshold
    std::atomic<std::uint64_t> slow_statements{0};  // statements past slow_statement_threshold

    void discard(discard_reason why) noexcept {
        discarded[static_cast<std::size_t>(why)].fetch_add(1, std::memory_order_relaxed);
    }
    static void count(std::atomic<std::uint64_t>& c) noexcept { c.fetch_add(1, std::memory_order_relaxed); }
};

/// The counters of `e`'s pool and of the sessions opened on it.
database_counters& counters_of(const engine& e) noexcept;

}  // namespace keel::detail
