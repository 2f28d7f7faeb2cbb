// Malformed and hostile requests: each gets a 4xx/5xx (or the connection is closed), the
// connection is not reused, and nothing hidden in a request body is ever routed.

#include <keel/server.hpp>

#include "raw_client.hpp"

#include <gtest/gtest.h>
#include <keel/app.hpp>
#include <keel/testing/live_server.hpp>

#include <atomic>
#include <string>

using keel::testing::live_server;
using keel_test::get_request;
using keel_test::raw_client;
using namespace std::chrono_literals;

namespace {
class ServerFramingTest : public ::testing::Test {
protected:
    ServerFramingTest() {
        app_.get("/", [] { return 1; });
        app_.post("/", [](const keel::request& req) { return req.body(); });
        app_.get("/smuggled", [this] {
            ++smuggled_;
            return 2;
        });
        server_ = std::make_unique<live_server>(app_);
    }

    // Sends `bytes`, expects `status` and a closed connection; then proves the server still serves.
    void expect_rejected(const std::string& bytes, int status) {
        {
            raw_client c(server_->port());
            c.send(bytes);
            const auto res = c.read_response(3s);
            ASSERT_TRUE(res) << "no answer to:\n" << bytes;
            EXPECT_EQ(res->status, status) << bytes;
            EXPECT_EQ(res->header("Connection").value_or(""), "close") << bytes;
            EXPECT_TRUE(c.closed_within(3s)) << "connection left open after:\n" << bytes;
        }
        raw_client again(server_->port());
        again.send(get_request("/"));
        const auto ok = again.read_response();
        ASSERT_TRUE(ok);
        EXPECT_EQ(ok->status, 200);
        EXPECT_EQ(smuggled_.load(), 0) << "a smuggled request was routed";
    }

    keel::app app_;
    std::atomic<int> smuggled_{0};
    std::unique_ptr<live_server> server_;
};
}  // namespace

TEST_F(ServerFramingTest, GarbageRequestLineIs400) {
    expect_rejected("HELLO\r\n\r\n", 400);
}

TEST_F(ServerFramingTest, BareLineFeedsAre400) {
    expect_rejected("GET / HTTP/1.1\nHost: t\n\n", 400);
}

TEST_F(ServerFramingTest, SpaceBeforeColonIs400) {
    expect_rejected("GET / HTTP/1.1\r\nHost : t\r\n\r\n", 400);
}

TEST_F(ServerFramingTest, MissingHostIs400) {
    expect_rejected("GET / HTTP/1.1\r\n\r\n", 400);
}

TEST_F(ServerFramingTest, TwoHostsAre400) {
    expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400);
}

TEST_F(ServerFramingTest, UnsupportedVersionIs505) {
    expect_rejected("GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505);
}

TEST_F(ServerFramingTest, BadRequestTargetIs400) {
    expect_rejected("GET nopath HTTP/1.1\r\nHost: t\r\n\r\n", 400);
}

TEST_F(ServerFramingTest, ContentLengthWithTransferEncodingIsRejected) {
    expect_rejected(
        "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
        "0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n",
        400);
    expect_rejected(
        "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n"
        "0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n",
        400);
}

TEST_F(ServerFramingTest, TwoContentLengthsAreRejectedEvenWhenEqual) {
    expect_rejected("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 40\r\n\r\nabc", 400);
    expect_rejected("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", 400);
    expect_rejected("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3, 3\r\n\r\nabc", 400);
}

TEST_F(ServerFramingTest, MalformedContentLengthIsRejected) {
    expect_rejected("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: +3\r\n\r\nabc", 400);
    expect_rejected("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3x\r\n\r\nabc", 400);
    expect_rejected("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\nabc", 400);
}

TEST_F(ServerFramingTest, TransferEncodingNotEndingInChunkedIsRejected) {
    expect_rejected(
        "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n"
        "GET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n",
        400);
    expect_rejected("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
                    400);
}

TEST_F(ServerFramingTest, OtherCodingsBeforeChunkedAreNotImplemented) {
    expect_rejected("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501);
}

TEST_F(ServerFramingTest, TransferEncodingInHttp10IsRejected) {
    expect_rejected("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400);
}

TEST_F(ServerFramingTest, BadChunkSizeIsRejected) {
    expect_rejected(
        "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", 400);
    expect_rejected(
        "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
        "ffffffffffffffffff\r\nhello\r\n0\r\n\r\n",
        400);
}

TEST_F(ServerFramingTest, UnsupportedExpectationIs417) {
    expect_rejected("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nExpect: teapot\r\n\r\nx", 417);
}

TEST_F(ServerFramingTest, BodyAfterAValidRequestIsParsedAsTheBodyNotARequest) {
    // A well-formed request with a body that looks like a request: it stays a body.
    raw_client c(server_->port());
    const std::string inner = "GET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n";
    c.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\nContent-Length: " +
           std::to_string(inner.size()) + "\r\n\r\n" + inner);
    const auto res = c.read_response();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(smuggled_.load(), 0);
}
