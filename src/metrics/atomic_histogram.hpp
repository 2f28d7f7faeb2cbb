#pragma once

// A histogram of fixed buckets that any thread may observe into without a lock: one relaxed
// atomic add for the bucket, one for the exact sum (an integer: nanoseconds, bytes). Read by a
// scrape, which turns it into Prometheus' cumulative buckets.

#include <prometheus/client_metric.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace keel::detail {

template <std::size_t Bounds>
struct atomic_histogram {
    std::array<std::atomic<std::uint64_t>, Bounds + 1> buckets{};  // not cumulative; the last is +Inf
    std::atomic<std::uint64_t> sum{0};

    /// Counts `value` (in the bounds' unit) and adds `exact` (in the sum's unit) to the sum.
    void observe(const std::array<double, Bounds>& bounds, double value, std::uint64_t exact) noexcept {
        std::size_t bucket = 0;
        while (bucket < Bounds && value > bounds[bucket]) ++bucket;
        buckets[bucket].fetch_add(1, std::memory_order_relaxed);
        sum.fetch_add(exact, std::memory_order_relaxed);
    }
};

/// Adds the histograms `parts` (shards of one series) into `out`, with the sum divided by `unit`.
template <std::size_t Bounds, class Parts>
void write_histogram(const std::array<double, Bounds>& bounds, const Parts& parts, double unit,
                     prometheus::ClientMetric& out) {
    std::uint64_t cumulative = 0;
    std::uint64_t sum = 0;
    for (const atomic_histogram<Bounds>* part : parts) sum += part->sum.load(std::memory_order_relaxed);
    for (std::size_t b = 0; b <= Bounds; ++b) {
        for (const atomic_histogram<Bounds>* part : parts)
            cumulative += part->buckets[b].load(std::memory_order_relaxed);
        out.histogram.bucket.push_back(
            {cumulative, b < Bounds ? bounds[b] : std::numeric_limits<double>::infinity()});
    }
    out.histogram.sample_count = cumulative;
    out.histogram.sample_sum = static_cast<double>(sum) / unit;
}

}  // namespace keel::detail
