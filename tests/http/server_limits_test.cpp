// Every limit of server_options, each answered as documented while other clients are served.

#include <keel/server.hpp>

#include "raw_client.hpp"

#include <gtest/gtest.h>
#include <keel/app.hpp>
#include <keel/testing/live_server.hpp>

#include <memory>
#include <string>
#include <vector>

using keel::testing::live_server;
using keel_test::get_request;
using keel_test::raw_client;
using namespace std::chrono_literals;

namespace {
void add_routes(keel::app& app) {
    app.get("/", [] { return 1; });
    app.post("/", [](const keel::request& req) { return req.body().size(); });
}

// The two routes, served with `options` as a test tunes them.
class ServerLimitsTest : public ::testing::Test {
protected:
    void serve(const keel::server_options& options = live_server::quiet_options()) {
        add_routes(app_);
        server_ = std::make_unique<live_server>(app_, options);
    }
    unsigned short port() const { return server_->port(); }

    static keel::server_options tuned(void (*tune)(keel::server_options&)) {
        auto options = live_server::quiet_options();
        tune(options);
        return options;
    }

    keel::app app_;
    std::unique_ptr<live_server> server_;
};

void expect_served(unsigned short port) {
    raw_client c(port);
    c.send(get_request("/"));
    const auto res = c.read_response(3s);
    ASSERT_TRUE(res) << "the server stopped serving other clients";
    EXPECT_EQ(res->status, 200);
}
}  // namespace

TEST_F(ServerLimitsTest, OversizedHeaderIs431) {
    serve(tuned([](keel::server_options& o) { o.max_header_bytes = 1024; }));
    raw_client c(port());
    c.send(get_request("/", "X-Big: " + std::string(2000, 'a') + "\r\n"));
    const auto res = c.read_response();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 431);
    EXPECT_TRUE(c.closed_within(3s));
    expect_served(port());
}

TEST_F(ServerLimitsTest, OversizedRequestLineIs431) {
    serve(tuned([](keel::server_options& o) { o.max_header_bytes = 1024; }));
    raw_client c(port());
    c.send(get_request("/" + std::string(4000, 'p')));
    const auto res = c.read_response();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 431);
}

TEST_F(ServerLimitsTest, DeclaredBodyOverTheLimitIs413WithoutReadingIt) {
    serve(tuned([](keel::server_options& o) { o.max_body_bytes = 100; }));
    raw_client c(port());
    // Only the header is sent: the answer must not wait for 1 MB that will never come.
    c.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n\r\n");
    const auto res = c.read_response(3s);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 413);
    expect_served(port());
}

TEST_F(ServerLimitsTest, ChunkedBodyOverTheLimitIs413) {
    serve(tuned([](keel::server_options& o) { o.max_body_bytes = 100; }));
    raw_client c(port());
    std::string req = "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 5; ++i) req += "32\r\n" + std::string(50, 'x') + "\r\n";
    req += "0\r\n\r\n";
    c.send(req);
    const auto res = c.read_response(3s);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 413);
}

TEST_F(ServerLimitsTest, BodyAtTheLimitIsAccepted) {
    serve(tuned([](keel::server_options& o) { o.max_body_bytes = 100; }));
    raw_client c(port());
    c.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n" + std::string(100, 'b'));
    const auto res = c.read_response();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->body, "100");
}

TEST_F(ServerLimitsTest, SlowHeadersAreCutOffWhileOthersAreServed) {
    serve(tuned([](keel::server_options& o) { o.header_timeout = 300ms; }));
    raw_client slow(port());
    slow.send("GET / HTTP/1.1\r\n");
    slow.send("Host: t\r\n");  // ...and never the blank line
    expect_served(port());
    EXPECT_TRUE(slow.closed_within(3s)) << "a client trickling its headers was never cut off";
}

TEST_F(ServerLimitsTest, ConnectionThatNeverSendsIsClosedAfterTheHeaderTimeout) {
    serve(tuned([](keel::server_options& o) { o.header_timeout = 200ms; }));
    raw_client silent(port());
    EXPECT_TRUE(silent.closed_within(3s));
}

TEST_F(ServerLimitsTest, SlowBodyIsCutOff) {
    serve(tuned([](keel::server_options& o) { o.body_timeout = 300ms; }));
    raw_client slow(port());
    slow.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc");
    EXPECT_TRUE(slow.closed_within(3s));
    expect_served(port());
}

TEST_F(ServerLimitsTest, IdleKeepAliveConnectionIsClosed) {
    serve(tuned([](keel::server_options& o) { o.idle_timeout = 200ms; }));
    raw_client c(port());
    c.send(get_request("/"));
    ASSERT_TRUE(c.read_response());
    EXPECT_TRUE(c.closed_within(3s));
}

TEST_F(ServerLimitsTest, ConnectionsBeyondTheMaximumWaitUntilOneCloses) {
    serve(tuned([](keel::server_options& o) { o.max_connections = 2; }));
    auto first = std::make_unique<raw_client>(port());
    raw_client second(port());
    first->send(get_request("/"));
    ASSERT_TRUE(first->read_response());
    second.send(get_request("/"));
    ASSERT_TRUE(second.read_response());

    raw_client third(port());  // the kernel completes the handshake; keel does not accept yet
    third.send(get_request("/"));
    EXPECT_FALSE(third.read_response(300ms)) << "a connection beyond max_connections was served";
    first.reset();  // one closes: the waiting one is taken in
    const auto res = third.read_response(3s);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
}

TEST_F(ServerLimitsTest, ManyIdleConnectionsDoNotStopService) {
    serve();
    std::vector<std::unique_ptr<raw_client>> idle;
    for (int i = 0; i < 500; ++i) idle.push_back(std::make_unique<raw_client>(port()));
    expect_served(port());
}
