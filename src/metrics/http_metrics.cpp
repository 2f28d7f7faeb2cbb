#include "metrics/http_metrics.hpp"

#include "metrics/families.hpp"

#include <algorithm>
#include <limits>

namespace keel::detail {

namespace {

constexpr std::uint64_t nanoseconds_per_second = 1'000'000'000;
constexpr std::size_t method_count = 8;  // keel::method's values

std::size_t this_thread_shard(std::size_t shards) noexcept {
    static std::atomic<std::size_t> next{0};
    thread_local const std::size_t mine = next.fetch_add(1, std::memory_order_relaxed);
    return mine % shards;
}

void add(std::atomic<std::uint64_t>& c, std::uint64_t n) noexcept {
    c.fetch_add(n, std::memory_order_relaxed);
}

}  // namespace

http_metrics::http_metrics() = default;
http_metrics::~http_metrics() = default;

void http_metrics::set_routes(std::vector<route_label> routes) {
    app_routes_ = routes.size();
    routes_ = std::move(routes);
    for (std::size_t m = 0; m < method_count; ++m)
        routes_.push_back({static_cast<keel::method>(m), "unmatched"});
    route_shards_ = std::make_unique<route_shard[]>(shard_count * routes_.size());
    codes_ = std::make_unique<route_codes[]>(routes_.size());
}

std::uint32_t http_metrics::unmatched(keel::method m) const noexcept {
    return static_cast<std::uint32_t>(app_routes_ + static_cast<std::size_t>(m));
}

// A route meets few distinct statuses: each takes the first free slot, claimed once.
std::size_t http_metrics::slot_of(std::uint32_t route, unsigned status) noexcept {
    auto& codes = codes_[route].codes;
    const auto code = static_cast<std::uint16_t>(status);
    for (std::size_t i = 0; i < codes.size(); ++i) {
        std::uint16_t seen = codes[i].load(std::memory_order_acquire);
        if (seen == code) return i;
        if (seen == 0 && codes[i].compare_exchange_strong(seen, code, std::memory_order_acq_rel)) return i;
        if (seen == code) return i;  // another thread claimed it for the same status
    }
    return status_slots - 1;
}

void http_metrics::started() noexcept {
    threads_[this_thread_shard(shard_count)].in_flight.fetch_add(1, std::memory_order_relaxed);
}

void http_metrics::finished(const exchange& e) noexcept {
    const std::size_t shard = this_thread_shard(shard_count);
    threads_[shard].in_flight.fetch_sub(1, std::memory_order_relaxed);
    if (e.route >= routes_.size()) return;
    auto& r = at(shard, e.route);
    add(r.by_status[slot_of(e.route, e.status)], 1);
    r.duration.observe(duration_bounds, static_cast<double>(e.nanoseconds) / nanoseconds_per_second,
                       e.nanoseconds);
    r.request_size.observe(size_bounds, static_cast<double>(e.request_bytes), e.request_bytes);
    r.response_size.observe(size_bounds, static_cast<double>(e.response_bytes), e.response_bytes);
}

void http_metrics::refused(refusal cause) noexcept {
    add(threads_[this_thread_shard(shard_count)].refused[static_cast<std::size_t>(cause)], 1);
}

void http_metrics::collect(std::vector<prometheus::MetricFamily>& out) const {
    using type = prometheus::MetricType;
    const auto total = [&](auto&& member) {
        std::uint64_t sum = 0;
        for (std::size_t s = 0; s < shard_count; ++s) sum += member(s).load(std::memory_order_relaxed);
        return sum;
    };
    auto requests =
        make_family("keel_http_requests_total",
                    "HTTP requests answered, by method, route template and status", type::Counter);
    auto duration =
        make_family("keel_http_request_duration_seconds",
                    "From a request's first byte read to its answer's last byte written", type::Histogram);
    auto request_size = make_family("keel_http_request_size_bytes", "Request body sizes", type::Histogram);
    auto response_size = make_family("keel_http_response_size_bytes", "Response body sizes", type::Histogram);

    for (std::uint32_t route = 0; route < routes_.size(); ++route) {
        const std::vector<prometheus::ClientMetric::Label> labels = {
            {"method", std::string(to_string(routes_[route].method))}, {"route", routes_[route].path}};
        std::array<std::uint64_t, status_slots> by_status{};
        for (std::size_t slot = 0; slot < status_slots; ++slot)
            by_status[slot] =
                total([&](std::size_t s) -> const counter& { return at(s, route).by_status[slot]; });
        const bool answered = std::any_of(by_status.begin(), by_status.end(), [](auto n) { return n > 0; });
        if (!answered && route >= app_routes_) continue;  // no empty "unmatched" series per method
        for (std::size_t slot = 0; slot < status_slots; ++slot) {
            if (by_status[slot] == 0) continue;
            auto status_labels = labels;
            status_labels.push_back(
                {"status", slot + 1 < status_slots
                               ? std::to_string(codes_[route].codes[slot].load(std::memory_order_acquire))
                               : "other"});
            add_sample(requests, static_cast<double>(by_status[slot]), std::move(status_labels));
        }
        const auto histogram_of = [&](auto member, const auto& bounds, double unit,
                                      prometheus::MetricFamily& f) {
            std::array<const std::remove_reference_t<decltype(at(0, route).*member)>*, shard_count> parts{};
            for (std::size_t s = 0; s < shard_count; ++s) parts[s] = &(at(s, route).*member);
            auto& m = f.metric.emplace_back();
            m.label = labels;
            write_histogram(bounds, parts, unit, m);
        };
        histogram_of(&route_shard::duration, duration_bounds, nanoseconds_per_second, duration);
        histogram_of(&route_shard::request_size, size_bounds, 1, request_size);
        histogram_of(&route_shard::response_size, size_bounds, 1, response_size);
    }
    out.push_back(std::move(requests));
    out.push_back(std::move(duration));
    out.push_back(std::move(request_size));
    out.push_back(std::move(response_size));

    std::int64_t flying = 0;
    for (const auto& t : threads_) flying += t.in_flight.load(std::memory_order_relaxed);
    add_single(out, "keel_http_requests_in_flight", "Requests read and not yet answered", type::Gauge,
               static_cast<double>(std::max<std::int64_t>(flying, 0)));

    static constexpr std::array<const char*, refusal_count> causes = {
        "header_too_large",   "body_too_large", "malformed",   "unsupported_version",
        "unsupported_expect", "header_timeout", "body_timeout"};
    auto& refused =
        add_family(out, "keel_http_requests_refused_total",
                   "Requests the server refused before the app saw them, by cause", type::Counter);
    for (std::size_t c = 0; c < refusal_count; ++c) {
        add_sample(refused, static_cast<double>(total([&](std::size_t s) -> const counter& {
                       return threads_[s].refused[c];
                   })),
                   {{"cause", causes[c]}});
    }
}

}  // namespace keel::detail
