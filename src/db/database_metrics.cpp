#include "db/database_metrics.hpp"

#include "db/database_counters.hpp"
#include "db/replica_set.hpp"
#include "metrics/families.hpp"

#include <array>
#include <string>
#include <utility>

namespace keel::detail {

namespace {

double loaded(const std::atomic<std::uint64_t>& c) {
    return static_cast<double>(c.load(std::memory_order_relaxed));
}

}  // namespace

void collect_database_metrics(const engine& e, std::vector<prometheus::MetricFamily>& out) {
    using type = prometheus::MetricType;
    const auto status = e.status();
    const auto& c = counters_of(e);

    add_by_label(out, "keel_db_pool_connections", "Open pooled connections, by state", type::Gauge, "state",
                 {{"idle", static_cast<double>(status.idle)},
                  {"checked_out", static_cast<double>(status.checked_out)}});
    add_single(out, "keel_db_pool_size", "Open pooled connections (idle, checked out and being opened)",
               type::Gauge, static_cast<double>(status.size));
    add_single(out, "keel_db_pool_overflow", "Open connections beyond pool_size", type::Gauge,
               static_cast<double>(status.overflow));
    add_single(out, "keel_db_pool_max_connections", "pool_size + max_overflow", type::Gauge,
               static_cast<double>(e.options().pool_size + e.options().max_overflow));
    add_single(out, "keel_db_pool_waiting", "Callers waiting for a connection", type::Gauge,
               static_cast<double>(status.waiting));
    add_single(out, "keel_db_pool_checkout_timeouts_total",
               "Waits for a connection that ended in pool_timeout", type::Counter,
               static_cast<double>(status.timeouts));
    add_single(out, "keel_db_connections_opened_total", "Connections opened", type::Counter,
               static_cast<double>(status.created));

    static constexpr std::array<const char*, discard_reason_count> reasons = {"broken", "recycled",
                                                                              "ping_failed", "surplus"};
    auto& closed =
        add_family(out, "keel_db_connections_closed_total",
                   "Connections the pool closed, by reason (surplus: returned while pool_size were idle)",
                   type::Counter);
    for (std::size_t r = 0; r < discard_reason_count; ++r)
        add_sample(closed, loaded(c.discarded[r]), {{"reason", reasons[r]}});

    write_histogram(database_counters::wait_bounds, std::array{&c.checkout_wait}, 1e9,
                    add_family(out, "keel_db_pool_checkout_wait_seconds", "Time to get a pooled connection",
                               type::Histogram)
                        .metric.emplace_back());

    add_by_label(
        out, "keel_db_transactions_total",
        "Session transactions that sent a statement, by outcome (in_doubt: the connection broke during "
        "COMMIT)",
        type::Counter, "outcome",
        {{"committed", loaded(c.committed)},
         {"rolled_back", loaded(c.rolled_back)},
         {"in_doubt", loaded(c.in_doubt)}});

    write_histogram(database_counters::statement_bounds, std::array{&c.statement_duration}, 1e9,
                    add_family(out, "keel_db_statement_duration_seconds",
                               "Session statements, sent to answered", type::Histogram)
                        .metric.emplace_back());
    add_single(out, "keel_db_slow_statements_total",
               "Session statements slower than slow_statement_threshold (each one logged)", type::Counter,
               loaded(c.slow_statements));
    add_single(out, "keel_db_connections_held_too_long_total",
               "Checkouts held longer than leak_threshold (each one logged)", type::Counter,
               loaded(c.held_too_long));
    if (const auto* replicas = replicas_of(e)) replicas->collect(out);
}

}  // namespace keel::detail
