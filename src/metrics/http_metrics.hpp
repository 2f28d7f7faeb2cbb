#pragma once

// keel's per-request HTTP metrics, recorded by the server after each answer is written and read
// at scrape time. The hot path takes no lock and shares no cache line between threads: every
// thread counts into its own shard (threads beyond the shard count share one, still exact, as
// every count is an atomic add), and a scrape sums the shards.

#include <keel/method.hpp>
#include <keel/metrics.hpp>

#include "metrics/atomic_histogram.hpp"

#include <prometheus/metric_family.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace keel::detail {

/// Why the server answered or closed a connection without the app seeing the request.
enum class refusal : std::uint8_t {
    header_too_large,     // 431
    body_too_large,       // 413
    malformed,            // 400
    unsupported_version,  // 505
    unsupported_expect,   // 417
    header_timeout,       // closed: the header did not arrive in time
    body_timeout,         // closed: the body did not arrive in time
};
inline constexpr std::size_t refusal_count = 7;

/// One request and its answer, as the server saw them.
struct exchange {
    std::uint32_t route = 0;  // request::route_index(): an app route, or one of the unmatched buckets
    keel::method method = keel::method::get;
    unsigned status = 200;
    std::uint64_t nanoseconds = 0;  // first byte read to last byte written
    std::size_t request_bytes = 0;  // bodies
    std::size_t response_bytes = 0;
};

class http_metrics {
public:
    /// The routes of a built app, by index (compiled_route::index): each is labelled with its
    /// method and template; requests that matched none are counted by method under "unmatched".
    struct route_label {
        keel::method method;
        std::string path;
    };
    void set_routes(std::vector<route_label> routes);
    /// The route index an unmatched request is counted under.
    std::uint32_t unmatched(keel::method m) const noexcept;

    void started() noexcept;                    // a request is in flight...
    void finished(const exchange& e) noexcept;  // ...and answered
    void refused(refusal cause) noexcept;

    /// Appends keel_http_* families for a scrape.
    void collect(std::vector<prometheus::MetricFamily>& out) const;

    http_metrics();
    ~http_metrics();
    http_metrics(const http_metrics&) = delete;
    http_metrics& operator=(const http_metrics&) = delete;

private:
    static constexpr std::size_t shard_count = 8;
    static constexpr std::size_t status_slots = 16;  // the last one counts any further status as "other"
    static constexpr std::array<double, 14> duration_bounds = {
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
    static constexpr std::array<double, 9> size_bounds = {64,    256,    1024,    4096,   16384,
                                                          65536, 262144, 1048576, 4194304};

    using counter = std::atomic<std::uint64_t>;
    template <std::size_t Bounds>
    using histogram = atomic_histogram<Bounds>;
    struct alignas(64) route_shard {
        std::array<counter, status_slots> by_status{};
        histogram<duration_bounds.size()> duration;
        histogram<size_bounds.size()> request_size;
        histogram<size_bounds.size()> response_size;
    };
    struct alignas(64) thread_shard {
        std::atomic<std::int64_t> in_flight{0};
        std::array<counter, refusal_count> refused{};
    };
    struct route_codes {
        std::array<std::atomic<std::uint16_t>, status_slots - 1> codes{};  // 0: free
    };

    std::size_t slot_of(std::uint32_t route, unsigned status) noexcept;
    route_shard& at(std::size_t shard, std::uint32_t route) noexcept {
        return route_shards_[shard * routes_.size() + route];
    }
    const route_shard& at(std::size_t shard, std::uint32_t route) const noexcept {
        return route_shards_[shard * routes_.size() + route];
    }

    std::vector<route_label> routes_;  // the app's, then one "unmatched" per method
    std::size_t app_routes_ = 0;
    std::unique_ptr<route_shard[]> route_shards_;
    std::unique_ptr<route_codes[]> codes_;
    std::array<thread_shard, shard_count> threads_{};
};

/// What the page is served as: Prometheus' text exposition format.
inline constexpr std::string_view metrics_content_type = "text/plain; version=0.0.4; charset=utf-8";

/// The HTTP recorder of an app's metrics (for the app, which labels the routes, and the server).
http_metrics& http_metrics_of(metrics& m) noexcept;

}  // namespace keel::detail
