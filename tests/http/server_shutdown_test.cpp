// Graceful shutdown: in-flight requests finish, idle connections close, new ones are refused.

#include <keel/server.hpp>

#include "raw_client.hpp"

#include <gtest/gtest.h>
#include <keel/app.hpp>
#include <keel/health.hpp>
#include <keel/testing/live_server.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using keel::testing::live_server;
using keel_test::get_request;
using keel_test::raw_client;
using namespace std::chrono_literals;

namespace {
// A handler that waits until the test lets it finish.
struct gate {
    std::promise<void> entered;
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    bool opened = false;
    void open() {
        if (!opened) release.set_value();
        opened = true;
    }
    ~gate() { open(); }
};
}  // namespace

TEST(ServerShutdownTest, InFlightRequestFinishesWithItsRealAnswer) {
    keel::app app;
    gate g;
    app.get("/slow", [&] {
        g.entered.set_value();
        g.released.wait();
        return std::string("finished");
    });
    live_server server(app);
    raw_client c(server.port());
    c.send(get_request("/slow"));
    ASSERT_EQ(g.entered.get_future().wait_for(10s), std::future_status::ready) << "the handler never ran";

    const auto port = server.port();
    std::thread stopper([&] { server.stop(); });
    // Release the handler only once the shutdown has begun, which shows as refused connections.
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    bool refused = false;
    while (!refused && std::chrono::steady_clock::now() < deadline) {
        try {
            raw_client probe(port);
            std::this_thread::sleep_for(1ms);
        } catch (const std::runtime_error&) {
            refused = true;
        }
    }
    EXPECT_TRUE(refused) << "the server kept accepting connections after stop()";
    g.open();
    const auto res = c.read_response(5s);
    stopper.join();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->body, "\"finished\"");
    EXPECT_EQ(res->header("Connection").value_or(""), "close");
}

TEST(ServerShutdownTest, IdleConnectionsAreClosedAndNewOnesRefused) {
    keel::app app;
    app.get("/", [] { return 1; });
    auto server = std::make_unique<live_server>(app);
    const auto port = server->port();
    raw_client idle(port);
    idle.send(get_request("/"));
    ASSERT_TRUE(idle.read_response());
    // stop() returns once drained. The drain deadline is 10 s: well before it, the idle
    // connection is closed at once rather than waited for (2 s leaves room for a loaded machine).
    const auto stop_started = std::chrono::steady_clock::now();
    server->stop();
    EXPECT_LT(std::chrono::steady_clock::now() - stop_started, 2s) << "the idle connection held the drain up";
    EXPECT_TRUE(idle.closed_within(2s));
    EXPECT_THROW(raw_client late(port), std::runtime_error);
}

TEST(ServerShutdownTest, DrainDeadlineClosesWhatIsLeft) {
    keel::app app;
    gate g;
    app.get("/stuck", [&] {
        g.entered.set_value();
        g.released.wait();
        return 1;
    });
    auto options = live_server::quiet_options();
    options.drain_timeout = 200ms;
    live_server server(app, options);
    raw_client c(server.port());
    c.send(get_request("/stuck"));
    ASSERT_EQ(g.entered.get_future().wait_for(10s), std::future_status::ready) << "the handler never ran";
    server.server().stop();
    // Not at once: the request in flight had its 200 ms to finish; then closed, within a bound
    // that leaves a loaded machine room.
    EXPECT_FALSE(c.closed_within(100ms)) << "closed before the drain deadline";
    EXPECT_TRUE(c.closed_within(3s)) << "the drain deadline did not close a stuck connection";
    g.open();  // let the worker return so the server can finish
    server.join();
}

TEST(ServerShutdownTest, StopBeforeRunReturnsAtOnce) {
    keel::app app;
    app.get("/", [] { return 1; });
    keel::server s(app, live_server::quiet_options());
    s.stop();
    auto ran = std::async(std::launch::async, [&] { s.run(); });
    ASSERT_EQ(ran.wait_for(10s), std::future_status::ready) << "run() after stop() blocked";
    ran.get();
}

TEST(ServerShutdownTest, UnderLoadEveryRequestGetsACompleteAnswerOrAClosedConnection) {
    keel::app app;
    std::atomic<int> handled{0};
    app.get("/work", [&] {
        std::this_thread::sleep_for(2ms);  // a request that takes a moment, so some are in flight
        ++handled;
        return 1;
    });
    auto server = std::make_unique<live_server>(app);
    const auto port = server->port();

    std::atomic<bool> go{true};
    std::atomic<int> answered{0}, broken{0};
    // Connected before any thread starts: a thread scheduled late (TSan) must not first connect
    // after the listener has closed.
    std::vector<std::unique_ptr<raw_client>> connections;
    for (int i = 0; i < 8; ++i) connections.push_back(std::make_unique<raw_client>(port));
    std::vector<std::thread> clients;
    for (auto& connection : connections) {
        clients.emplace_back([&, &c = *connection] {
            while (go.load()) {
                if (!c.send(get_request("/work"))) return;
                const auto res = c.read_response(5s);
                if (!res) return;  // closed by the shutdown between requests: fine
                if (res->status != 200 || res->body != "1") ++broken;
                ++answered;
                if (res->header("Connection").value_or("") == "close") return;
            }
        });
    }
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (answered.load() < 40 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(1ms);
    const bool under_load = answered.load() >= 40;
    server->stop();
    go = false;
    for (auto& t : clients) t.join();
    EXPECT_TRUE(under_load) << "the load never got going";
    EXPECT_EQ(broken.load(), 0);
    EXPECT_EQ(answered.load(), handled.load()) << "a handled request was not answered, or the reverse";
}

TEST(ServerShutdownTest, ThePreStopDelayServesOnWithReadinessAt503) {
    keel::app app;
    app.readiness_check("always", [] {});
    app.include(keel::health_router());
    app.get("/", [] { return 1; });
    auto options = live_server::quiet_options();
    options.shutdown_delay = 1500ms;
    live_server server(app, options);
    const auto port = server.port();
    raw_client kept(port);
    kept.send(get_request("/readyz"));
    auto res = kept.read_response();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);

    const auto stop_started = std::chrono::steady_clock::now();
    server.server().stop();
    // During the delay: readiness says 503 on an open connection, and the listener still takes
    // new connections and serves them (a load balancer has not noticed yet).
    std::optional<keel_test::raw_response> draining;
    for (int i = 0; i < 100 && (!draining || draining->status != 503);
         ++i) {  // stop() takes effect on the I/O thread
        kept.send(get_request("/readyz"));
        draining = kept.read_response();
    }
    ASSERT_TRUE(draining);
    EXPECT_EQ(draining->status, 503);
    EXPECT_EQ(draining->body, R"({"status":"draining"})");
    raw_client fresh(port);
    fresh.send(get_request("/"));
    res = fresh.read_response();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200) << "served during the delay";
    EXPECT_LT(std::chrono::steady_clock::now() - stop_started, 1500ms)
        << "the checks above ran within the delay";

    server.join();
    EXPECT_GE(std::chrono::steady_clock::now() - stop_started, 1500ms)
        << "the listener closed before the delay";
    EXPECT_THROW(raw_client late(port), std::runtime_error);
}

TEST(ServerShutdownTest, ReadinessIs503OnConnectionsStillOpenDuringTheDrain) {
    keel::app app;
    app.include(keel::health_router());
    live_server server(app);
    raw_client c(server.port());
    c.send("GET /readyz HTTP/1.1\r\nHost: x\r\n");  // a request under way: its connection is not idle
    std::this_thread::sleep_for(300ms);             // for the server to read it (generous: a loaded machine)
    server.server().stop();
    std::this_thread::sleep_for(100ms);
    c.send("\r\n");
    const auto res = c.read_response();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 503);
    EXPECT_EQ(res->body, R"({"status":"draining"})");
    EXPECT_EQ(res->header("connection"), "close");
    server.join();
}
