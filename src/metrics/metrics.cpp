#include <keel/metrics.hpp>

#include "metrics/http_metrics.hpp"
#include "metrics/process_metrics.hpp"

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <atomic>
#include <map>
#include <mutex>
#include <sstream>

namespace keel {

struct metrics::impl {
    prometheus::Registry registry;
    detail::http_metrics http;
    std::atomic<bool> recording{false};
    mutable std::mutex collectors_mutex;
    std::map<std::size_t, collector> collectors;
    std::size_t next_handle = 1;
};

metrics::metrics() : impl_(std::make_unique<impl>()) {}
metrics::~metrics() = default;

prometheus::Registry& metrics::registry() noexcept {
    return impl_->registry;
}

std::string metrics::page() const {
    std::vector<prometheus::MetricFamily> families;
    impl_->http.collect(families);
    {
        std::lock_guard lock(impl_->collectors_mutex);
        for (const auto& [handle, c] : impl_->collectors) c(families);
    }
    detail::collect_process_metrics(families);
    auto own = impl_->registry.Collect();
    families.insert(families.end(), std::make_move_iterator(own.begin()), std::make_move_iterator(own.end()));
    std::ostringstream out;
    prometheus::TextSerializer().Serialize(out, families);
    return std::move(out).str();
}

std::size_t metrics::add_collector(collector c) {
    std::lock_guard lock(impl_->collectors_mutex);
    const auto handle = impl_->next_handle++;
    impl_->collectors.emplace(handle, std::move(c));
    return handle;
}

void metrics::remove_collector(std::size_t handle) noexcept {
    std::lock_guard lock(impl_->collectors_mutex);
    impl_->collectors.erase(handle);
}

bool metrics::recording() const noexcept {
    return impl_->recording.load(std::memory_order_relaxed);
}

void metrics::start_recording() noexcept {
    impl_->recording.store(true, std::memory_order_relaxed);
}

namespace detail {
http_metrics& http_metrics_of(metrics& m) noexcept {
    return m.impl_->http;
}
}  // namespace detail

}  // namespace keel
