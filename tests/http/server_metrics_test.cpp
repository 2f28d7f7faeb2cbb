// The Prometheus page as the server fills it: requests by route template and status, durations,
// sizes, refusals, connections and the worker pool, on a port of its own or on the app's.
#include <keel/server.hpp>

#include "../support/captured_log.hpp"
#include "../support/metrics_page.hpp"
#include "raw_client.hpp"

#include <gtest/gtest.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>
#include <keel/app.hpp>
#include <keel/path.hpp>
#include <keel/testing/http_client.hpp>
#include <keel/testing/live_server.hpp>

#include <algorithm>
#include <iterator>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using keel::testing::http_client;
using keel::testing::live_server;
using keel_test::raw_client;
using keel_test::sample;
using namespace std::chrono_literals;

namespace {

// The page once every answered request has been counted: the server counts a request after its
// last byte is written, which may be just after the client read it.
std::string settled_page(unsigned short metrics_port) {
    std::string page;
    for (const auto deadline = std::chrono::steady_clock::now() + 5s;
         std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(5ms)) {
        page = http_client(metrics_port).get("/metrics").text();
        if (sample(page, "keel_http_requests_in_flight") == 0) break;
    }
    return page;
}

void add_metered_routes(keel::app& app) {
    app.get("/users/{id}", [](keel::path<int> id) { return *id; });
    app.post("/echo", [](const keel::request& req) { return keel::response::text(req.body()); });
}

keel::server_options with_metrics_port() {
    auto options = live_server::quiet_options();
    options.metrics_port = 0;
    return options;
}

}  // namespace

TEST(ServerMetricsTest, CountsRequestsByRouteTemplateAndStatusOnTheMetricsPort) {
    keel::app app;
    add_metered_routes(app);
    auto& mails = prometheus::BuildCounter()
                      .Name("test_mails_sent_total")
                      .Help("The service's own counter")
                      .Register(app.metrics().registry())
                      .Add({{"kind", "welcome"}});
    mails.Increment(3);
    live_server server(app, with_metrics_port());
    ASSERT_NE(server.server().metrics_port(), 0);
    ASSERT_NE(server.server().metrics_port(), server.port());

    http_client c(server.port());
    EXPECT_EQ(c.get("/users/1").status(), 200);
    EXPECT_EQ(c.get("/users/2").status(), 200);
    EXPECT_EQ(c.get("/users/x").status(), 422);
    EXPECT_EQ(c.get("/nowhere/1").status(), 404);
    EXPECT_EQ(c.get("/nowhere/2").status(), 404);
    const auto echoed = c.post("/echo", std::string(300, 'a'));
    EXPECT_EQ(echoed.status(), 200);
    EXPECT_EQ(c.get("/metrics").status(), 404) << "the app's port does not serve the page";

    http_client scraper(server.server().metrics_port());
    const auto res = scraper.get("/metrics");
    ASSERT_EQ(res.status(), 200);
    EXPECT_EQ(res.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    const auto page = settled_page(server.server().metrics_port());

    EXPECT_EQ(sample(page, R"(keel_http_requests_total{method="GET",route="/users/{id}",status="200"})"), 2)
        << page;
    EXPECT_EQ(sample(page, R"(keel_http_requests_total{method="GET",route="/users/{id}",status="422"})"), 1);
    EXPECT_EQ(sample(page, R"(keel_http_requests_total{method="GET",route="unmatched",status="404"})"), 3)
        << "unmatched paths (/nowhere/1, /nowhere/2, /metrics) share one series: the raw path is never a "
           "label";
    EXPECT_EQ(page.find("/nowhere"), std::string::npos);
    EXPECT_EQ(sample(page, R"(keel_http_requests_total{method="POST",route="/echo",status="200"})"), 1);
    EXPECT_EQ(sample(page, R"(keel_http_request_duration_seconds_count{method="GET",route="/users/{id}"})"),
              3);
    EXPECT_EQ(
        sample(page,
               R"(keel_http_request_duration_seconds_bucket{method="GET",route="/users/{id}",le="+Inf"})"),
        3);
    EXPECT_GT(*sample(page, R"(keel_http_request_duration_seconds_sum{method="GET",route="/users/{id}"})"),
              0);
    EXPECT_EQ(sample(page, R"(keel_http_request_size_bytes_sum{method="POST",route="/echo"})"),
              echoed.text().size())
        << "the body sent: the test client sends the string as JSON";
    EXPECT_EQ(sample(page, R"(keel_http_request_size_bytes_bucket{method="POST",route="/echo",le="256"})"),
              0);
    EXPECT_EQ(sample(page, R"(keel_http_request_size_bytes_bucket{method="POST",route="/echo",le="1024"})"),
              1);
    EXPECT_EQ(sample(page, R"(keel_http_response_size_bytes_sum{method="POST",route="/echo"})"),
              echoed.text().size());
    EXPECT_EQ(sample(page, R"(keel_http_request_duration_seconds_count{method="POST",route="/echo"})"), 1);
    EXPECT_EQ(sample(page, R"(keel_http_requests_in_flight)"), 0);
    EXPECT_GE(sample(page, R"(keel_http_connections_open)").value_or(0), 1)
        << "the client's keep-alive connection";
    EXPECT_TRUE(sample(page, R"(keel_worker_threads)").has_value());
    EXPECT_TRUE(sample(page, R"(keel_worker_refused_total)").has_value());
    EXPECT_EQ(sample(page, R"(keel_http_request_failures_total{kind="unhandled"})"), 0);
    EXPECT_GT(sample(page, "process_resident_memory_bytes").value_or(0), 0);
    EXPECT_GT(sample(page, "process_open_fds").value_or(0), 0);
    EXPECT_GT(sample(page, "process_start_time_seconds").value_or(0), 1.7e9);
    EXPECT_EQ(sample(page, R"(test_mails_sent_total{kind="welcome"})"), 3) << "the service's own metrics";
    EXPECT_EQ(page.find("/metrics"), std::string::npos) << "scrapes are not counted among the app's requests";

    EXPECT_EQ(scraper.get("/users/1").status(), 404) << "the metrics port serves nothing else";
}

TEST(ServerMetricsTest, CountsRequestsRefusedBeforeTheAppByCause) {
    keel::app app;
    add_metered_routes(app);
    auto options = with_metrics_port();
    options.max_header_bytes = 1024;
    options.max_body_bytes = 100;
    live_server server(app, options);

    const auto refused = [&](const std::string& bytes) {
        raw_client c(server.port());
        c.send(bytes);
        return c.read_response(5s);
    };
    auto res = refused("GET /users/1 HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(2000, 'a') + "\r\n\r\n");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 431);
    res = refused("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 413);
    res = refused("GET /users/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400);

    const auto page = settled_page(server.server().metrics_port());
    EXPECT_EQ(sample(page, R"(keel_http_requests_refused_total{cause="header_too_large"})"), 1) << page;
    EXPECT_EQ(sample(page, R"(keel_http_requests_refused_total{cause="body_too_large"})"), 1);
    EXPECT_EQ(sample(page, R"(keel_http_requests_refused_total{cause="malformed"})"), 1);
    EXPECT_EQ(sample(page, R"(keel_http_requests_refused_total{cause="header_timeout"})"), 0);
}

TEST(ServerMetricsTest, AnAppServesThePageOnItsOwnPortWhenAsked) {
    keel::app app;
    add_metered_routes(app);
    app.serve_metrics("/internal/metrics");
    live_server server(app);
    EXPECT_EQ(server.server().metrics_port(), 0);
    http_client c(server.port());
    EXPECT_EQ(c.get("/users/7").status(), 200);
    const auto res = c.get("/internal/metrics");
    ASSERT_EQ(res.status(), 200);
    EXPECT_EQ(
        sample(res.text(), R"(keel_http_requests_total{method="GET",route="/users/{id}",status="200"})"), 1);
    EXPECT_EQ(app.openapi_document().find("/internal/metrics"), std::string::npos)
        << "not an operation of the API";
}

TEST(ServerMetricsTest, NothingIsRecordedWhileNothingServesThePage) {
    keel::app app;
    add_metered_routes(app);
    live_server server(app);
    http_client c(server.port());
    EXPECT_EQ(c.get("/users/7").status(), 200);
    const auto page = app.metrics().page();
    EXPECT_EQ(page.find("keel_http_requests_total{"), std::string::npos) << page;
    EXPECT_TRUE(sample(page, "process_resident_memory_bytes").has_value());
}

TEST(ServerMetricsTest, DurationsRunFromTheFirstByteArrivedEvenBehindABlockedIoThread) {
    keel::app app;
    // A coroutine handler that blocks its I/O thread (the mistake keel's docs warn of): a
    // request that arrives meanwhile waits in its socket, and its duration must show that.
    app.get("/block", []() -> keel::task<int> {
        std::this_thread::sleep_for(800ms);
        co_return 1;
    });
    app.get("/fast", []() -> keel::task<int> { co_return 2; });
    keel_test::captured_log log;
    log.attach(app.logger());
    auto options = with_metrics_port();
    options.io_threads = 1;
    options.access_log = true;
    live_server server(app, options);

    raw_client blocker(server.port());
    raw_client waiting(server.port());
    ASSERT_TRUE(waiting.send(keel_test::get_request("/fast")));  // answered: the connection is in place
    ASSERT_TRUE(waiting.read_response(5s));
    ASSERT_TRUE(blocker.send(keel_test::get_request("/block")));
    std::this_thread::sleep_for(200ms);  // /block is running by now (generous: it runs for 800 ms)
    ASSERT_TRUE(waiting.send(keel_test::get_request("/fast")));
    const auto res = waiting.read_response(5s);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);

    // It waited about 600 ms behind /block; it took microseconds once read. The bound is
    // generous (300 ms): a scheduler delay only makes the measured wait longer.
    const auto page = settled_page(server.server().metrics_port());
    EXPECT_EQ(sample(page, R"(keel_http_request_duration_seconds_count{method="GET",route="/fast"})"), 2);
    EXPECT_EQ(
        sample(page, R"(keel_http_request_duration_seconds_bucket{method="GET",route="/fast",le="0.25"})"), 1)
        << page;
    EXPECT_GT(
        sample(page, R"(keel_http_request_duration_seconds_sum{method="GET",route="/fast"})").value_or(0),
        0.3);
    // Both /fast lines, once written (the server writes a line just after counting its request).
    std::vector<std::string> fast;
    log.wait_until([&](const std::vector<std::string>& lines) {
        fast.clear();
        std::copy_if(lines.begin(), lines.end(), std::back_inserter(fast), [](const std::string& l) {
            return l.find("\"GET /fast HTTP/1.1\" 200 ") != std::string::npos;
        });
        return fast.size() >= 2;
    });
    ASSERT_EQ(fast.size(), 2u);
    const auto logged = std::count_if(fast.begin(), fast.end(), [](const std::string& l) {
        const auto at = l.find(" duration_ms=");
        return at != std::string::npos && std::stod(l.substr(at + 13)) > 300;
    });
    EXPECT_EQ(logged, 1) << "the access log line shows the wait too";
}
