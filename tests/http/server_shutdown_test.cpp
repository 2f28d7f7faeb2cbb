// Graceful shutdown: in-flight requests finish, idle connections close, new ones are refused.

#include <keel/server.hpp>

#include "raw_client.hpp"

#include <gtest/gtest.h>
#include <keel/app.hpp>
#include <keel/testing/live_server.hpp>

#include <atomic>
#include <future>
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
    g.entered.get_future().wait();

    const auto port = server.port();
    std::thread stopper([&] { server.stop(); });
    // Release the handler only once the shutdown has begun, which shows as refused connections.
    for (;;) {
        try {
            raw_client probe(port);
        } catch (const std::runtime_error&) {
            break;
        }
        std::this_thread::yield();
    }
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
    server->stop();  // returns once drained: the idle connection did not hold it up
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
    g.entered.get_future().wait();
    server.server().stop();
    EXPECT_TRUE(c.closed_within(3s)) << "the drain deadline did not close a stuck connection";
    g.open();  // let the worker return so the server can finish
    server.join();
}

TEST(ServerShutdownTest, StopBeforeRunReturnsAtOnce) {
    keel::app app;
    app.get("/", [] { return 1; });
    keel::server s(app, live_server::quiet_options());
    s.stop();
    s.run();  // must not block
    SUCCEED();
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
    std::vector<std::thread> clients;
    for (int i = 0; i < 8; ++i) {
        clients.emplace_back([&] {
            raw_client c(port);
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
    while (answered.load() < 40) std::this_thread::yield();
    server->stop();
    go = false;
    for (auto& t : clients) t.join();
    EXPECT_EQ(broken.load(), 0);
    EXPECT_EQ(answered.load(), handled.load()) << "a handled request was not answered, or the reverse";
}
