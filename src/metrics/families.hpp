#pragma once

// Building the Prometheus families of a scrape: every collector of keel's (HTTP, worker pool,
// database, process) writes its samples through these.

#include <prometheus/metric_family.h>

#include <initializer_list>
#include <utility>
#include <vector>

namespace keel::detail {

/// A new, empty family.
inline prometheus::MetricFamily make_family(const char* name, const char* help, prometheus::MetricType type) {
    prometheus::MetricFamily f;
    f.name = name;
    f.help = help;
    f.type = type;
    return f;
}

/// A new, empty family at the end of `out` (the reference lasts until the next one is added).
inline prometheus::MetricFamily& add_family(std::vector<prometheus::MetricFamily>& out, const char* name,
                                            const char* help, prometheus::MetricType type) {
    return out.emplace_back(make_family(name, help, type));
}

/// A sample of a counter or gauge family, with its labels.
inline void add_sample(prometheus::MetricFamily& f, double value,
                       std::vector<prometheus::ClientMetric::Label> labels = {}) {
    auto& m = f.metric.emplace_back();
    m.label = std::move(labels);
    (f.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value) = value;
}

/// A family of one unlabelled sample.
inline void add_single(std::vector<prometheus::MetricFamily>& out, const char* name, const char* help,
                       prometheus::MetricType type, double value) {
    add_sample(add_family(out, name, help, type), value);
}

/// A family of one sample per value of one label: `{"idle", 3}, {"checked_out", 1}`.
inline void add_by_label(std::vector<prometheus::MetricFamily>& out, const char* name, const char* help,
                         prometheus::MetricType type, const char* label,
                         std::initializer_list<std::pair<const char*, double>> samples) {
    auto& f = add_family(out, name, help, type);
    for (const auto& [value_of_label, value] : samples) add_sample(f, value, {{label, value_of_label}});
}

}  // namespace keel::detail
