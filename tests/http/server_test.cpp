#include <keel/server.hpp>

#include "../support/captured_log.hpp"
#include "raw_client.hpp"

#include <gtest/gtest.h>
#include <keel/app.hpp>
#include <keel/body.hpp>
#include <keel/path.hpp>
#include <keel/request_logger.hpp>
#include <keel/testing/client.hpp>
#include <keel/testing/live_server.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using keel::testing::live_server;
using keel_test::get_request;
using keel_test::raw_client;
using namespace std::chrono_literals;

namespace {
void add_basic_routes(keel::app& app) {
    app.get("/plaintext", [] { return keel::response::text("Hello, World!"); });
    app.get("/echo/{word}", [](keel::path<std::string> word) { return *word; });
    app.post("/length", [](const keel::request& req) { return req.body().size(); });
    app.post("/body", [](const keel::request& req) { return keel::response::text(req.body()); });
}
}  // namespace

TEST(ServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
    keel::app app;
    add_basic_routes(app);
    live_server server(app);
    raw_client c(server.port());
    for (int i = 0; i < 5; ++i) {
        ASSERT_TRUE(c.send(get_request("/echo/w" + std::to_string(i))));
        const auto res = c.read_response();
        ASSERT_TRUE(res) << "request " << i;
        EXPECT_EQ(res->status, 200);
        EXPECT_EQ(res->body, "\"w" + std::to_string(i) + "\"");
        EXPECT_FALSE(res->header("Connection").has_value());
    }
}

TEST(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
    keel::app app;
    add_basic_routes(app);
    live_server server(app);
    raw_client c(server.port());
    std::string burst;
    for (int i = 0; i < 10; ++i) burst += get_request("/echo/" + std::to_string(i));
    ASSERT_TRUE(c.send(burst));
    for (int i = 0; i < 10; ++i) {
        const auto res = c.read_response();
        ASSERT_TRUE(res) << "response " << i;
        EXPECT_EQ(res->body, "\"" + std::to_string(i) + "\"");
    }
}

TEST(ServerTest, DateAndServerFieldsAreSent) {
    keel::app app;
    add_basic_routes(app);
    live_server server(app);
    raw_client c(server.port());
    c.send(get_request("/plaintext"));
    const auto res = c.read_response();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->header("Server").value_or(""), "keel");
    const auto date = res->header("Date").value_or("");
    EXPECT_EQ(date.size(), 29u) << date;  // "Fri, 27 Nov 2026 11:44:03 GMT"
    EXPECT_EQ(date.substr(date.size() - 4), " GMT");
    EXPECT_EQ(res->header("Content-Length").value_or(""), "13");
}

TEST(ServerTest, ConnectionCloseIsHonoured) {
    keel::app app;
    add_basic_routes(app);
    live_server server(app);
    raw_client c(server.port());
    c.send(get_request("/plaintext", "Connection: close\r\n"));
    const auto res = c.read_response();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->header("Connection").value_or(""), "close");
    EXPECT_TRUE(c.closed_within(2s));
}

TEST(ServerTest, Http10ClosesUnlessAskedToKeepAlive) {
    keel::app app;
    add_basic_routes(app);
    live_server server(app);
    {
        raw_client c(server.port());
        c.send("GET /plaintext HTTP/1.0\r\n\r\n");
        const auto res = c.read_response();
        ASSERT_TRUE(res);
        EXPECT_EQ(res->body, "Hello, World!");
        EXPECT_TRUE(c.closed_within(2s));
    }
    {
        raw_client c(server.port());
        c.send("GET /plaintext HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        const auto res = c.read_response();
        ASSERT_TRUE(res);
        EXPECT_EQ(res->header("Connection").value_or(""), "keep-alive");
        c.send("GET /echo/again HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        const auto again = c.read_response();
        ASSERT_TRUE(again);
        EXPECT_EQ(again->body, "\"again\"");
    }
}

TEST(ServerTest, HeadHasTheGetFieldsAndNoBody) {
    keel::app app;
    add_basic_routes(app);
    live_server server(app);
    raw_client c(server.port());
    // A HEAD then a GET on one connection: if HEAD sent a body, the GET's answer would be garbled.
    c.send("HEAD /plaintext HTTP/1.1\r\nHost: t\r\n\r\n" + get_request("/echo/after"));
    const auto head = c.read_response(5s, true);
    ASSERT_TRUE(head);
    EXPECT_EQ(head->status, 200);
    EXPECT_EQ(head->header("Content-Length").value_or(""), "13");
    const auto next = c.read_response();
    ASSERT_TRUE(next);
    EXPECT_EQ(next->body, "\"after\"");
}

TEST(ServerTest, ChunkedRequestBodyIsAssembled) {
    keel::app app;
    add_basic_routes(app);
    live_server server(app);
    raw_client c(server.port());
    c.send(
        "POST /body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5\r\nHello\r\n8;ext=1\r\n, World!\r\n0\r\n\r\n");
    const auto res = c.read_response();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->body, "Hello, World!");
}

TEST(ServerTest, ExpectContinueGets100BeforeTheBody) {
    keel::app app;
    add_basic_routes(app);
    live_server server(app);
    raw_client c(server.port());
    c.send("POST /length HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
    const auto interim = c.read_response();
    ASSERT_TRUE(interim);
    EXPECT_EQ(interim->status, 100);
    c.send("abcde");
    const auto res = c.read_response();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->body, "5");
}

TEST(ServerTest, BlockingHandlerDoesNotStallOtherRequests) {
    keel::app app;
    std::promise<void> release;
    auto released = release.get_future().share();
    struct release_on_exit {  // a failed assertion must not leave the worker blocked forever
        std::promise<void>& p;
        bool done = false;
        ~release_on_exit() {
            if (!done) p.set_value();
        }
    };
    std::promise<void> entered;
    app.get("/slow", [&] {
        entered.set_value();
        released.wait();  // blocks a worker, never an I/O thread
        return 1;
    });
    app.get("/fast", [] { return 2; });
    keel::server_options options = live_server::quiet_options();
    options.io_threads = 1;  // one I/O thread: a handler on it would stall everything
    live_server server(app, options);
    release_on_exit guard{release};  // after the server: destroyed first, so the server can stop

    raw_client slow(server.port());
    slow.send(get_request("/slow"));
    ASSERT_EQ(entered.get_future().wait_for(10s), std::future_status::ready) << "the slow handler never ran";
    raw_client fast(server.port());
    fast.send(get_request("/fast"));
    const auto res = fast.read_response(5s);
    ASSERT_TRUE(res) << "the fast request waited for the blocked one";
    EXPECT_EQ(res->body, "2");
    release.set_value();
    guard.done = true;
    const auto slow_res = slow.read_response(5s);
    ASSERT_TRUE(slow_res);
    EXPECT_EQ(slow_res->body, "1");
}

// Plain handlers that block (slow queries, locks) make the worker pool let more threads in,
// up to worker_threads and no further.
TEST(ServerTest, BlockedWorkersLetMoreInUpToWorkerThreads) {
    keel::app app;
    std::mutex m;
    std::condition_variable cv;
    int inside = 0;
    bool open = false;
    app.get("/blocked", [&] {
        std::unique_lock lock(m);
        ++inside;
        cv.notify_all();
        cv.wait(lock, [&] { return open; });
        return 1;
    });
    keel::server_options options = live_server::quiet_options();
    options.worker_concurrency = 1;
    options.worker_threads = 3;
    live_server server(app, options);

    std::vector<std::unique_ptr<raw_client>> clients;
    for (int i = 0; i < 4; ++i) {
        clients.push_back(std::make_unique<raw_client>(server.port()));
        clients.back()->send(get_request("/blocked"));
    }
    {
        std::unique_lock lock(m);
        EXPECT_TRUE(cv.wait_for(lock, 5s, [&] { return inside == 3; })) << inside << " handlers running";
        // A fourth would be let in within a few stall periods (15 ms each) if the limit were
        // not kept; half a second is far beyond that, even under TSan on two cores.
        EXPECT_FALSE(cv.wait_for(lock, 500ms, [&] { return inside > 3; })) << "more than worker_threads ran";
        open = true;
    }
    cv.notify_all();
    for (auto& c : clients) {
        const auto res = c->read_response(5s);
        ASSERT_TRUE(res);
        EXPECT_EQ(res->body, "1");
    }
}

TEST(ServerTest, AbsoluteFormTargetsAreRouted) {
    keel::app app;
    add_basic_routes(app);
    live_server server(app);
    raw_client c(server.port());
    c.send("GET http://example.com/echo/abs?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n");
    const auto res = c.read_response();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->body, "\"abs\"");
}

TEST(ServerTest, HeaderInjectionInAResponseBecomes500) {
    keel::app app;
    app.get("/inject", [] {
        keel::response res = keel::response::text("x");
        res.headers().set("X-Evil", "a\r\nSet-Cookie: stolen=1");
        return res;
    });
    live_server server(app);
    raw_client c(server.port());
    c.send(get_request("/inject"));
    const auto res = c.read_response();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 500);
    EXPECT_FALSE(res->header("Set-Cookie").has_value());
}

// The access log belongs to the server, not to the app's middleware: an app that a test client
// built first (so it can no longer change) still gets its access log lines.
TEST(ServerTest, TheAccessLogWorksWhenATestClientBuiltTheAppFirst) {
    keel::app app;
    keel_test::captured_log log;
    log.attach(app.logger());
    app.use([](keel::request& req, keel::next next) -> keel::task<keel::response> {
        auto res = co_await next(req);
        res.headers().set("X-Inner", "1");
        co_return res;
    });
    app.get("/logged", [] { return "yes"; });
    {
        keel::testing::client first(app);
        EXPECT_EQ(first.get("/logged").body(), "\"yes\"");
    }
    ASSERT_TRUE(app.built());

    auto options = live_server::quiet_options();
    options.access_log = true;
    live_server server(app, options);
    raw_client c(server.port());
    c.send(get_request("/logged", "X-Request-ID: trace-me-42\r\n"));
    const auto res = c.read_response(5s);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->header("x-request-id"), "trace-me-42") << "echoed over the wire";
    // The server writes the line once the answer is out: it may come just after the client read it.
    const bool logged = log.wait_until([](const std::vector<std::string>& lines) {
        return std::any_of(lines.begin(), lines.end(), [](const std::string& l) {
            return l.find("\"GET /logged HTTP/1.1\" 200") != std::string::npos &&
                   l.find(" request_id=trace-me-42 ") != std::string::npos;
        });
    });
    EXPECT_TRUE(logged) << "no access log line naming the request's id";
}

TEST(ServerTest, JsonLogLinesParseBackWithTheRequestsFields) {
    keel::app app;
    keel_test::captured_log captured;
    captured.attach(app.logger());
    app.get("/items/{id}", [](keel::path<int> id, keel::request_logger log) {
        log.warning("looked up\n\"item\"", {{"item", *id}, {"note", "caf\xc3\xa9 \xff"}, {"found", true}});
        return *id;
    });
    auto options = live_server::quiet_options();
    options.access_log = true;
    options.log_format = keel::log_format::json;
    live_server server(app, options);
    raw_client c(server.port());
    c.send(get_request("/items/42?x=\"1\"", "X-Request-ID: json-7\r\n"));
    const auto res = c.read_response(5s);
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200);

    // The access line comes once the answer is out: wait for it (and the handler's line) a while.
    std::vector<nlohmann::json> parsed;
    captured.wait_until([&](const std::vector<std::string>& lines) {
        parsed.clear();
        for (const auto& l : lines) {
            auto j = nlohmann::json::parse(l);  // throws, failing the test, if not JSON
            if (j.value("request_id", "") == "json-7") parsed.push_back(std::move(j));  // not start-up's
        }
        return parsed.size() >= 2;
    });
    for (const auto& l : captured.lines())
        EXPECT_EQ(l.find('\n'), std::string::npos) << "one record, one line: " << l;
    ASSERT_EQ(parsed.size(), 2u);
    const auto& handler = parsed[0];
    EXPECT_EQ(handler["level"], "warning");
    EXPECT_EQ(handler["message"], "looked up\n\"item\"");
    EXPECT_EQ(handler["request_id"], "json-7");
    EXPECT_EQ(handler["route"], "/items/{id}");
    EXPECT_EQ(handler["method"], "GET");
    EXPECT_EQ(handler["trace_id"].get<std::string>().size(), 32u);
    EXPECT_EQ(handler["span_id"].get<std::string>().size(), 16u);
    EXPECT_EQ(handler["item"], 42) << "a number stays a number";
    EXPECT_EQ(handler["found"], true);
    EXPECT_EQ(handler["note"], "caf\xc3\xa9 \xef\xbf\xbd") << "an invalid byte becomes U+FFFD";
    EXPECT_TRUE(handler["time"].get<std::string>().ends_with("Z"));

    const auto& access = parsed[1];
    EXPECT_EQ(access["level"], "info");
    EXPECT_EQ(access["message"], "\"GET /items/42?x=\"1\" HTTP/1.1\" 200");
    EXPECT_EQ(access["status"], 200);
    EXPECT_EQ(access["route"], "/items/{id}");
    EXPECT_EQ(access["request_id"], "json-7");
    EXPECT_EQ(access["trace_id"], handler["trace_id"]);
    EXPECT_EQ(access["bytes"], 2);
    EXPECT_TRUE(access["duration_ms"].is_number());
    EXPECT_GE(access["duration_ms"].get<double>(), 0.0);
    EXPECT_TRUE(access["remote"].get<std::string>().starts_with("127.0.0.1:")) << access;
}

TEST(ServerTest, TheLogLevelOptionFiltersTheAppsLogger) {
    keel::app app;
    keel_test::captured_log captured;
    captured.attach(app.logger());
    app.get("/quiet", [](keel::request_logger log) {
        log.info("not written");
        log.warning("written");
        return "ok";
    });
    auto options = live_server::quiet_options();
    options.access_log = true;
    options.log_level = keel::log_level::warning;
    live_server server(app, options);
    raw_client c(server.port());
    c.send(get_request("/quiet"));
    ASSERT_TRUE(c.read_response(5s));
    // A second request on the same connection is answered only after the first one's access
    // line would have been written: the server writes it before reading on.
    c.send(get_request("/quiet"));
    ASSERT_TRUE(c.read_response(5s));
    EXPECT_EQ(app.logger().level(), keel::log_level::warning);
    const auto lines = captured.lines();
    ASSERT_FALSE(lines.empty());
    for (const auto& l : lines) {
        EXPECT_NE(l.find(" warning written "), std::string::npos) << "only the warnings: " << l;
    }
}
