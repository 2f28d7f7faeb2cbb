// The database's part of the metrics page: the pool's gauges and counters, checkout waits,
// transactions by outcome and statement durations, from a real PostgreSQL through a server.
#include <keel/app.hpp>

#include "../support/metrics_page.hpp"

#include <gtest/gtest.h>
#include <keel/depends.hpp>
#include <keel/engine.hpp>
#include <keel/get_session.hpp>
#include <keel/http_error.hpp>
#include <keel/session.hpp>
#include <keel/testing/http_client.hpp>
#include <keel/testing/live_server.hpp>
#include <keel/testing/postgres_environment.hpp>

#include <optional>
#include <sstream>
#include <string>

using keel::testing::http_client;
using keel::testing::live_server;
using keel::testing::postgres_environment;
using keel_test::sample;

TEST(DatabaseMetrics, ThePoolAndItsSessionsAreOnThePage) {
    keel::app app;
    keel::engine_options options;
    options.url = postgres_environment::server().url();
    options.pool_size = 2;
    options.max_overflow = 1;
    app.provide<keel::engine>(keel::scope::app,
                              [options] { return std::make_shared<keel::engine>(options); });
    app.provide<keel::session_factory>(keel::scope::app,
                                       [](keel::engine& e) { return keel::session_factory{e}; });
    using db_session = keel::depends<keel::get_session>;
    app.get("/ok", [](db_session db) { return db->scalar<int>("SELECT 1") + db->scalar<int>("SELECT 2"); });
    app.get("/fails", [](db_session db) -> int {
        db->scalar<int>("SELECT 1");
        throw keel::http_error(keel::status::conflict, "no");
    });
    app.get("/nothing", [](db_session) { return 0; });  // opens no transaction: counted nowhere

    auto server_options = live_server::quiet_options();
    server_options.metrics_port = 0;
    live_server server(app, server_options);
    const auto scrape = [&] { return http_client(server.server().metrics_port()).get("/metrics").text(); };
    EXPECT_EQ(scrape().find("keel_db_pool"), std::string::npos) << "no engine made yet: no pool to show";

    http_client c(server.port());
    for (int i = 0; i < 3; ++i) EXPECT_EQ(c.get("/ok").status(), 200);
    for (int i = 0; i < 2; ++i) EXPECT_EQ(c.get("/fails").status(), 409);
    EXPECT_EQ(c.get("/nothing").status(), 200);

    const auto page = scrape();
    EXPECT_EQ(sample(page, R"(keel_db_transactions_total{outcome="committed"})"), 3) << page;
    EXPECT_EQ(sample(page, R"(keel_db_transactions_total{outcome="rolled_back"})"), 2);
    EXPECT_EQ(sample(page, R"(keel_db_transactions_total{outcome="in_doubt"})"), 0);
    EXPECT_EQ(sample(page, "keel_db_statement_duration_seconds_count"), 8) << "3 x 2 statements, 2 x 1";
    EXPECT_GT(sample(page, "keel_db_statement_duration_seconds_sum").value_or(0), 0);
    EXPECT_EQ(sample(page, "keel_db_pool_checkout_wait_seconds_count"), 5)
        << "one checkout per session that ran a statement (the lazy session of /nothing took none)";
    EXPECT_EQ(sample(page, R"(keel_db_pool_connections{state="checked_out"})"), 0);
    EXPECT_GE(sample(page, R"(keel_db_pool_connections{state="idle"})").value_or(0), 1);
    EXPECT_EQ(sample(page, "keel_db_pool_max_connections"), 3);
    EXPECT_EQ(sample(page, "keel_db_pool_waiting"), 0);
    EXPECT_EQ(sample(page, "keel_db_pool_checkout_timeouts_total"), 0);
    EXPECT_GE(sample(page, "keel_db_connections_opened_total").value_or(0), 1);
    EXPECT_EQ(sample(page, R"(keel_db_connections_closed_total{reason="broken"})"), 0);
    EXPECT_EQ(sample(page, R"(keel_db_transaction_retries_total{sqlstate="40001"})"), 0);
}
