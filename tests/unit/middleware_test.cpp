#include <keel/middleware.hpp>

#include <gtest/gtest.h>
#include <keel/access_log.hpp>
#include <keel/app.hpp>
#include <keel/http_error.hpp>
#include <keel/testing/client.hpp>

#include <string>
#include <vector>

using keel::testing::client;

TEST(MiddlewareTest, RunsInRegistrationOrderAroundTheHandler) {
    keel::app app;
    std::vector<std::string> trace;
    app.use([&](keel::request& req, keel::next next) -> keel::task<keel::response> {
        trace.push_back("outer in");
        auto res = co_await next(req);
        trace.push_back("outer out");
        co_return res;
    });
    app.use([&](keel::request& req, keel::next next) -> keel::task<keel::response> {
        trace.push_back("inner in");
        auto res = co_await next(req);
        trace.push_back("inner out");
        co_return res;
    });
    app.get("/", [&] {
        trace.push_back("handler");
        return 1;
    });
    client c{app};
    c.get("/");
    EXPECT_EQ(trace, (std::vector<std::string>{"outer in", "inner in", "handler", "inner out", "outer out"}));
}

TEST(MiddlewareTest, CanChangeTheRequestAndTheResponse) {
    keel::app app;
    app.use([](keel::request& req, keel::next next) -> keel::task<keel::response> {
        req.headers().set("X-User", "ann");
        auto res = co_await next(req);
        res.headers().set("X-Frame-Options", "DENY");
        co_return res;
    });
    app.get("/", [](const keel::request& req) { return std::string(req.header("X-User").value_or("")); });
    client c{app};
    const auto res = c.get("/");
    EXPECT_EQ(res.json(), "ann");
    EXPECT_EQ(res.header("X-Frame-Options").value_or(""), "DENY");
}

TEST(MiddlewareTest, CanAnswerEarlyWithoutRunningTheHandler) {
    keel::app app;
    bool handler_ran = false;
    app.use([](keel::request& req, keel::next next) -> keel::task<keel::response> {
        if (!req.header("Authorization")) throw keel::http_error(keel::status::unauthorized, "who are you?");
        co_return co_await next(req);
    });
    app.get("/", [&] {
        handler_ran = true;
        return 1;
    });
    client c{app};
    const auto res = c.get("/");
    EXPECT_EQ(res.status(), keel::status::unauthorized) << res;
    EXPECT_FALSE(handler_ran);
}

TEST(MiddlewareTest, SeesErrorResponsesOfTheHandlerAsResponses) {
    keel::app app;
    int seen = 0;
    app.use([&](keel::request& req, keel::next next) -> keel::task<keel::response> {
        auto res = co_await next(req);
        seen = static_cast<int>(keel::to_int(res.status()));
        co_return res;
    });
    app.get("/", []() -> int { throw std::runtime_error("x"); });
    client c{app};
    c.get("/");
    EXPECT_EQ(seen, 500);
    c.get("/missing");
    EXPECT_EQ(seen, 404);
}

TEST(MiddlewareTest, AccessLogWritesOneLinePerRequest) {
    keel::app app;
    std::vector<std::string> lines;
    app.logger().set_sink([&](keel::log_level, std::string_view line) { lines.emplace_back(line); });
    app.use(keel::access_log(app.logger()));
    app.get("/users/{id}", [](keel::path<int> id) { return *id; });
    client c{app};
    c.get("/users/7?x=1");
    ASSERT_EQ(lines.size(), 1u);
    const auto& line = lines[0];
    EXPECT_NE(line.find(" info \"GET /users/7?x=1 HTTP/1.1\" 200 request_id="), std::string::npos) << line;
    EXPECT_NE(line.find(" method=GET route=/users/{id} status=200 duration_ms="), std::string::npos) << line;
    EXPECT_NE(line.find(" bytes=1 remote="), std::string::npos) << line;
}

TEST(MiddlewareTest, AccessLogRedactsCredentialsInTheQuery) {
    keel::app app;
    std::vector<std::string> lines;
    app.logger().set_sink([&](keel::log_level, std::string_view line) { lines.emplace_back(line); });
    app.use(keel::access_log(app.logger()));
    app.get("/report", [] { return 1; });
    client c{app};
    c.get("/report?page=2&api_key=k3el-secret&access_token=tok3n&Password=hunter2&q=key&api%5Fkey=s3cond");
    ASSERT_EQ(lines.size(), 1u);
    const auto& line = lines[0];
    EXPECT_NE(line.find("/report?page=2&api_key=REDACTED&access_token=REDACTED&Password=REDACTED&q=key"
                        "&api%5Fkey=REDACTED "),
              std::string::npos)
        << line;
    for (const auto* secret : {"k3el-secret", "tok3n", "hunter2", "s3cond"})
        EXPECT_EQ(line.find(secret), std::string::npos);
}

TEST(MiddlewareTest, SilencedLoggerWritesNothing) {
    keel::app app;
    int calls = 0;
    app.logger().set_sink([&](keel::log_level, std::string_view) { ++calls; });
    app.logger().set_level(keel::log_level::off);
    app.use(keel::access_log(app.logger()));
    app.get("/", [] { return 1; });
    client c{app};
    c.get("/");
    EXPECT_EQ(calls, 0);
}
