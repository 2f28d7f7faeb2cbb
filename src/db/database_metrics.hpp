#pragma once

// An engine's pool and sessions as Prometheus families (keel_db_*), for the metrics page.
// Private to keel.

#include <keel/engine.hpp>

#include <prometheus/metric_family.h>

#include <vector>

namespace keel::detail {

void collect_database_metrics(const engine& e, std::vector<prometheus::MetricFamily>& out);

}  // namespace keel::detail
