// Leaks and slow statements named, against a real PostgreSQL: a connection held past
// leak_threshold is logged once with the request that holds it, a checkout that times out names
// the longest holders, and a slow statement is logged with its text (its parameters only when
// asked) and its request.
#include <keel/app.hpp>

#include "../support/captured_log.hpp"
#include "../support/metrics_page.hpp"

#include <gtest/gtest.h>
#include <keel/depends.hpp>
#include <keel/engine.hpp>
#include <keel/get_session.hpp>
#include <keel/session.hpp>
#include <keel/testing/client.hpp>
#include <keel/testing/http_client.hpp>
#include <keel/testing/live_server.hpp>
#include <keel/testing/postgres_environment.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

using keel::testing::postgres_environment;
using keel_test::sample;
using namespace std::chrono_literals;

namespace {

using leak_test_session = keel::depends<keel::get_session>;

// An app on its own engine whose logger keeps every line, as JSON.
class LeaksTest : public ::testing::Test {
protected:
    void make_app(keel::engine_options o) {
        o.url = postgres_environment::server().url();
        app_.provide<keel::engine>(keel::scope::app, [o] { return std::make_shared<keel::engine>(o); });
        app_.provide<keel::session_factory>(keel::scope::app,
                                            [](keel::engine& e) { return keel::session_factory{e}; });
        app_.logger().set_format(keel::log_format::json);
        log_.attach(app_.logger());
        app_.serve_metrics("/metrics");
    }

    // The lines whose message is `message`, parsed.
    static std::vector<nlohmann::json> with_message(const std::vector<std::string>& lines,
                                                    std::string_view message) {
        std::vector<nlohmann::json> out;
        for (const auto& line : lines) {
            auto j = nlohmann::json::parse(line);
            if (j["message"] == message) out.push_back(std::move(j));
        }
        return out;
    }
    std::vector<nlohmann::json> logged(std::string_view message) const {
        return with_message(log_.lines(), message);
    }
    // Waits (up to 10 s) for `count` lines with `message`: some are written by other threads.
    std::vector<nlohmann::json> logged_eventually(std::string_view message, std::size_t count) const {
        log_.wait_until([&](const auto& lines) { return with_message(lines, message).size() >= count; }, 10s);
        return logged(message);
    }

    keel_test::captured_log log_;  // before app_: it outlives the app's logger's last line
    keel::app app_;
};

constexpr std::string_view held_too_long = "keel: a database connection is held longer than leak_threshold";
constexpr std::string_view came_back =
    "keel: a database connection held longer than leak_threshold came back";
constexpr std::string_view timed_out_holder = "keel: a checkout timed out while this connection was held";
constexpr std::string_view slow = "keel: slow statement";

}  // namespace

TEST_F(LeaksTest, AConnectionHeldTooLongIsLoggedOnceWithItsRequest) {
    keel::engine_options o;
    o.leak_threshold = 150ms;
    make_app(o);
    app_.get("/hold", [](leak_test_session db) {
        db->scalar<int>("SELECT 1");
        std::this_thread::sleep_for(700ms);  // over four times the threshold: reported once all the same
        return "held";
    });
    app_.get("/quick", [](leak_test_session db) { return db->scalar<int>("SELECT 1"); });
    keel::testing::client c(app_);
    ASSERT_EQ(c.get("/quick").status(), keel::status::ok);
    ASSERT_EQ(c.get("/hold", {{"x-request-id", "leak-1"}}).status(), keel::status::ok);

    const auto held = logged(held_too_long);
    ASSERT_EQ(held.size(), 1u) << "one line per checkout, however long it is held";
    const auto& line = held[0];
    EXPECT_EQ(line["level"], "warning");
    EXPECT_EQ(line["request_id"], "leak-1");
    EXPECT_EQ(line["route"], "/hold");
    EXPECT_EQ(line["method"], "GET");
    EXPECT_EQ(line["trace_id"].get<std::string>().size(), 32u);
    EXPECT_NE(line["opened_at"].get<std::string>().find("get_session.cpp:"), std::string::npos) << line;
    EXPECT_GE(line["held_ms"].get<double>(), 150.0);
    EXPECT_GT(line["backend_pid"].get<int>(), 0);
    EXPECT_EQ(line["leak_threshold_ms"], 150);

    const auto back = logged_eventually(came_back, 1);
    ASSERT_EQ(back.size(), 1u) << "its return is logged too";
    EXPECT_EQ(back[0]["request_id"], "leak-1");
    EXPECT_GE(back[0]["held_ms"].get<double>(), 700.0);

    const auto page = c.get("/metrics").text();
    EXPECT_EQ(sample(page, "keel_db_connections_held_too_long_total"), 1) << page;
}

TEST_F(LeaksTest, ASessionOpenedOutsideARequestNamesWhereItWasOpened) {
    keel::engine_options o;
    o.leak_threshold = 100ms;
    make_app(o);
    app_.get("/unused", [] { return 0; });
    app_.on_startup([](keel::session_factory& sessions) {
        auto s = sessions.open();  // this line is what the report names
        s.scalar<int>("SELECT 1");
        std::this_thread::sleep_for(400ms);
        s.commit();
    });
    app_.start();
    const auto held = logged(held_too_long);
    ASSERT_EQ(held.size(), 1u);
    EXPECT_FALSE(held[0].contains("request_id")) << "no request: none named";
    EXPECT_NE(held[0]["opened_at"].get<std::string>().find("leaks_pgtest.cpp:"), std::string::npos)
        << held[0];
    app_.stop();
}

TEST_F(LeaksTest, ACheckoutTimeoutIsCountedAndNamesTheLongestHolder) {
    keel::engine_options o;
    o.pool_size = 1;
    o.max_overflow = 0;
    o.pool_timeout = 200ms;
    o.leak_threshold = 0ms;  // off: only the timeout names the holder
    make_app(o);
    std::promise<void> holding;
    std::atomic<bool> signalled{false};
    app_.get("/hold", [&](leak_test_session db) {
        db->scalar<int>("SELECT 1");
        if (!signalled.exchange(true)) holding.set_value();
        std::this_thread::sleep_for(1s);
        return "held";
    });
    app_.get("/quick", [](leak_test_session db) { return db->scalar<int>("SELECT 1"); });
    keel::testing::live_server server(app_);
    auto holder = std::async(std::launch::async, [&] {
        keel::testing::http_client c(server.port());
        return c.get("/hold", {{"x-request-id", "holder-1"}}).status();
    });
    ASSERT_EQ(holding.get_future().wait_for(10s), std::future_status::ready);
    keel::testing::http_client c(server.port());
    const auto refused = c.get("/quick", {{"x-request-id", "waiter-1"}});
    EXPECT_EQ(refused.status(), keel::status::service_unavailable) << refused;
    EXPECT_EQ(holder.get(), keel::status::ok);

    const auto named = logged(timed_out_holder);
    ASSERT_EQ(named.size(), 1u);
    EXPECT_EQ(named[0]["request_id"], "holder-1") << "the holder, not the waiter";
    EXPECT_EQ(named[0]["route"], "/hold");
    EXPECT_EQ(named[0]["rank"], 1);
    EXPECT_GE(named[0]["waited_ms"].get<int>(), 150);
    EXPECT_GE(named[0]["held_ms"].get<double>(), 150.0);
    EXPECT_FALSE(logged(held_too_long).size()) << "leak_threshold 0 reports nothing";
    const auto page = c.get("/metrics").text();
    EXPECT_EQ(sample(page, "keel_db_pool_checkout_timeouts_total"), 1) << page;
    EXPECT_EQ(sample(page, R"(keel_http_request_failures_total{kind="pool_exhausted"})"), 1);
    EXPECT_EQ(sample(page, R"(keel_http_requests_total{method="GET",route="/quick",status="503"})"), 1);
    EXPECT_EQ(sample(page, "keel_db_connections_held_too_long_total"), 0);
}

TEST_F(LeaksTest, ASlowStatementIsLoggedWithItsTextButNotItsParameters) {
    keel::engine_options o;
    o.slow_statement_threshold = 100ms;
    make_app(o);
    app_.get("/slow", [](leak_test_session db) {
        db->scalar<int>("SELECT 1");  // fast: not logged
        return db->scalar<std::string>("SELECT $1::text FROM pg_sleep(0.3)", std::string("secret-value"));
    });
    app_.get("/slow-failure", [](leak_test_session db) {
        return db->scalar<int>("SELECT 1 / (0 * count(*))::int FROM (SELECT pg_sleep(0.3)) AS s");
    });
    keel::testing::client c(app_);
    ASSERT_EQ(c.get("/slow", {{"x-request-id", "slow-1"}}).status(), keel::status::ok);
    EXPECT_NE(c.get("/slow-failure").status(), keel::status::ok);

    const auto lines = logged(slow);
    ASSERT_EQ(lines.size(), 2u) << "SELECT 1 is not slow";
    EXPECT_EQ(lines[0]["level"], "warning");
    EXPECT_EQ(lines[0]["statement"], "SELECT $1::text FROM pg_sleep(0.3)");
    EXPECT_GE(lines[0]["duration_ms"].get<double>(), 250.0);
    EXPECT_EQ(lines[0]["request_id"], "slow-1");
    EXPECT_EQ(lines[0]["route"], "/slow");
    EXPECT_EQ(lines[0]["failed"], false);
    EXPECT_FALSE(lines[0].contains("parameters"));
    EXPECT_FALSE(log_.contains("secret-value")) << "parameters stay out of the log unless asked for";
    EXPECT_EQ(lines[1]["route"], "/slow-failure");
    EXPECT_EQ(lines[1]["failed"], true) << "a statement that failed slowly is still slow";
    EXPECT_EQ(sample(c.get("/metrics").text(), "keel_db_slow_statements_total"), 2);
}

TEST_F(LeaksTest, ASlowStatementsParametersAreLoggedWhenAskedFor) {
    keel::engine_options o;
    o.slow_statement_threshold = 100ms;
    o.log_statement_parameters = true;
    make_app(o);
    app_.get("/slow", [](leak_test_session db) {
        return db->scalar<std::string>("SELECT $1::text || coalesce($2, '') FROM pg_sleep(0.2)",
                                       std::string("shown \"here\""), nullptr);
    });
    keel::testing::client c(app_);
    ASSERT_EQ(c.get("/slow").status(), keel::status::ok);
    const auto lines = logged(slow);
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(nlohmann::json::parse(lines[0]["parameters"].get<std::string>()),
              nlohmann::json::parse(R"(["shown \"here\"", null])"))
        << lines[0];
}
