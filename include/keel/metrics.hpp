#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace prometheus {
class Registry;
struct MetricFamily;
}  // namespace prometheus

namespace keel {

class metrics;
namespace detail {
class http_metrics;
http_metrics& http_metrics_of(metrics& m) noexcept;
}  // namespace detail

/// An app's Prometheus metrics: keel's own (HTTP requests by route and status, their latency and
/// sizes, connections, refusals, the worker pool, the process) and the service's, on one page in
/// the text exposition format.
///
/// The service's own metrics are prometheus-cpp's (`prometheus-cpp-dev`): register counters,
/// gauges and histograms with `registry()`, and keep the references the builders return:
/// ```
/// auto& sent = prometheus::BuildCounter().Name("bank_mails_sent_total").Help("Mails sent")
///                  .Register(app.metrics().registry()).Add({});
/// sent.Increment();
/// ```
/// keel records its HTTP metrics only while something serves the page (app::serve_metrics or
/// server_options::metrics_port): an app that does not use them pays nothing per request.
/// Thread safe.
class metrics {
public:
    metrics();
    ~metrics();
    metrics(const metrics&) = delete;
    metrics& operator=(const metrics&) = delete;

    /// Where the service registers its own metrics (include <prometheus/registry.h> and the
    /// builders of <prometheus/counter.h>, <prometheus/gauge.h>, <prometheus/histogram.h>).
    prometheus::Registry& registry() noexcept;

    /// The whole page, as a scrape sees it (`text/plain; version=0.0.4`).
    std::string page() const;

    /// Adds families computed at every scrape (a pool's gauges, say); returns a handle for
    /// remove_collector. The function must be thread safe and outlive its registration.
    using collector = std::function<void(std::vector<prometheus::MetricFamily>& out)>;
    std::size_t add_collector(collector c);
    void remove_collector(std::size_t handle) noexcept;

    /// Whether keel records its per-request metrics (set by whatever serves the page).
    bool recording() const noexcept;
    void start_recording() noexcept;

private:
    friend detail::http_metrics& detail::http_metrics_of(metrics& m) noexcept;
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace keel
