#pragma once

// The standard process_* metrics of Prometheus' client libraries, read from /proc at scrape time.

#include <prometheus/metric_family.h>

#include <vector>

namespace keel::detail {

/// Appends process_cpu_seconds_total, process_start_time_seconds, process_resident_memory_bytes,
/// process_virtual_memory_bytes, process_open_fds and process_max_fds (those /proc can tell).
void collect_process_metrics(std::vector<prometheus::MetricFamily>& out);

}  // namespace keel::detail
