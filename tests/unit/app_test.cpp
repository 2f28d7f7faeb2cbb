#include <keel/access_log.hpp>
#include <keel/app.hpp>

#include <gtest/gtest.h>
#include <keel/http_error.hpp>
#include <keel/offload.hpp>
#include <keel/testing/client.hpp>

#include "../support/captured_log.hpp"

#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

using keel::testing::client;
using nlohmann::json;

namespace {
// Captures what the app logs, to check what is (and is not) said.
using keel_test::captured_log;

struct teapot_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};
}  // namespace

TEST(AppTest, HttpErrorBecomesItsStatusWithDetailAndHeaders) {
    keel::app app;
    app.get("/secret", []() -> int {
        keel::header_map h;
        h.set("WWW-Authenticate", "Bearer");
        throw keel::http_error(keel::status::unauthorized, "not authenticated", h);
    });
    client c{app};
    const auto res = c.get("/secret");
    EXPECT_EQ(res.status(), keel::status::unauthorized) << res;
    EXPECT_EQ(res.text(), R"({"detail":"not authenticated"})");
    EXPECT_EQ(res.header("WWW-Authenticate").value_or(""), "Bearer");
}

TEST(AppTest, StatusesCompareWithPlainNumbersAndPrintReadably) {
    keel::app app;
    app.get("/users/{id}", [](keel::path<int>) -> int { throw keel::http_error(404, "user not found"); });
    client c{app};
    EXPECT_EQ(c.get("/users/999").status(), 404);
    EXPECT_NE(c.get("/users/999").status(), 200);
    std::ostringstream printed;
    printed << keel::status::not_found;
    EXPECT_EQ(printed.str(), "404 Not Found");
}

TEST(AppTest, HttpErrorWithoutDetailUsesTheReasonPhrase) {
    keel::app app;
    app.get("/", []() -> int { throw keel::http_error(404); });
    client c{app};
    EXPECT_EQ(c.get("/").text(), R"({"detail":"Not Found"})");
}

TEST(AppTest, OtherExceptionsAre500AndAreLoggedNotSent) {
    keel::app app;
    captured_log log;
    log.attach(app.logger());
    app.get("/boom", []() -> int { throw std::runtime_error("password=hunter2"); });
    client c{app};
    const auto res = c.get("/boom", {{"x-request-id", "req-7"}});
    EXPECT_EQ(res.status(), keel::status::internal_server_error) << res;
    EXPECT_EQ(res.text(), R"({"detail":"Internal Server Error","request_id":"req-7"})");
    EXPECT_EQ(res.text().find("hunter2"), std::string::npos);
    EXPECT_TRUE(log.contains("password=hunter2"));
    EXPECT_TRUE(log.contains(" request_id=req-7 ")) << "the log line a user's quoted id finds";
}

TEST(AppTest, EveryRequestHasAnIdEchoedAndSeenByTheHandler) {
    keel::app app;
    app.get("/id", [](keel::request& req) { return std::string(req.id()); });
    client c{app};

    // A valid X-Request-ID is kept, and reaches the handler.
    auto res = c.get("/id", {{"X-Request-ID", "a1B2-c3_d4.e5:f6/g7+h8=i9@j0~"}});
    EXPECT_EQ(res.json(), "a1B2-c3_d4.e5:f6/g7+h8=i9@j0~");
    EXPECT_EQ(res.header("x-request-id"), "a1B2-c3_d4.e5:f6/g7+h8=i9@j0~");

    // None, or one that could forge a log line or is too long: a new random UUID.
    // A version-4 UUID: 8-4-4-4-12 lower-case hex digits, "4" and one of "89ab" where RFC 4122
    // puts the version and the variant. (No std::regex: GCC 12's ASan build warns inside it.)
    const auto is_uuid = [](const std::string& id) {
        if (id.size() != 36 || id[14] != '4' ||
            std::string_view("89ab").find(id[19]) == std::string_view::npos)
            return false;
        for (std::size_t i = 0; i < id.size(); ++i) {
            const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
            const bool hex = (id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f');
            if (dash ? id[i] != '-' : !hex) return false;
        }
        return true;
    };
    std::set<std::string> made;
    for (const auto* given : {"", "two words", "x\r\nlevel=error forged", "\"quoted\"", "\xc3\xa9"}) {
        keel::header_map headers;
        if (*given) headers.add("x-request-id", given);
        res = c.get("/id", headers);
        const auto id = res.json().get<std::string>();
        EXPECT_TRUE(is_uuid(id)) << "for '" << given << "': " << id;
        EXPECT_EQ(res.header("x-request-id"), id);
        made.insert(id);
    }
    res = c.get("/id", {{"x-request-id", std::string(129, 'a')}});
    EXPECT_TRUE(is_uuid(res.json().get<std::string>())) << "129 characters are too many";
    res = c.get("/id", {{"x-request-id", std::string(128, 'a')}});
    EXPECT_EQ(res.json(), std::string(128, 'a'));
    EXPECT_EQ(made.size(), 5U) << "each generated id is new";

    // Answers keel makes itself carry it too.
    EXPECT_TRUE(c.get("/nowhere").header("x-request-id").has_value());
}

TEST(AppTest, TraceContextIsKeptFromAValidTraceparentOrStartedHere) {
    keel::app app;
    app.get("/trace", [](keel::request& req) {
        const auto& t = req.trace();
        return json{{"trace", t.trace_id()},   {"parent", t.parent_id()}, {"span", t.span_id()},
                    {"flags", int{t.flags()}}, {"state", t.tracestate()}, {"sampled", t.sampled()},
                    {"out", t.traceparent()}};
    });
    client c{app};
    const std::string trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    const std::string parent = "00f067aa0ba902b7";
    const auto is_span = [](const std::string& s) {
        return s.size() == 16 && s.find_first_not_of("0123456789abcdef") == std::string::npos &&
               s != std::string(16, '0');
    };

    // A valid version 00 traceparent: its trace, parent and flags are kept, the request has a
    // span of its own, and an outgoing traceparent names that span.
    keel::header_map headers{{"traceparent", "00-" + trace + "-" + parent + "-01"},
                             {"tracestate", "congo=t61rcWkgMzE"},
                             {"TraceState", "rojo=00f067aa0ba902b7"}};
    auto got = c.get("/trace", headers).json();
    EXPECT_EQ(got["trace"], trace);
    EXPECT_EQ(got["parent"], parent);
    EXPECT_EQ(got["flags"], 1);
    EXPECT_TRUE(got["sampled"].get<bool>());
    EXPECT_EQ(got["state"], "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7") << "every tracestate field, in order";
    const auto span = got["span"].get<std::string>();
    EXPECT_TRUE(is_span(span)) << span;
    EXPECT_NE(span, parent);
    EXPECT_EQ(got["out"], "00-" + trace + "-" + span + "-01");

    // A later version is read by its first four fields; flags other than "sampled" do not go on.
    got = c.get("/trace", {{"traceparent", "cc-" + trace + "-" + parent + "-03-what-comes-next"}}).json();
    EXPECT_EQ(got["trace"], trace);
    EXPECT_EQ(got["flags"], 3);
    EXPECT_EQ(got["out"].get<std::string>().substr(52), "-01");

    // Anything invalid starts a new trace (and its tracestate is not kept).
    const std::vector<std::string> invalid = {
        "",
        "00-" + trace + "-" + parent + "-1",                      // short flags
        "00-" + trace + "-" + parent + "-01-extra",               // version 00 has nothing after
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-" + parent + "-01",  // upper case
        "00-00000000000000000000000000000000-" + parent + "-01",  // zero trace id
        "00-" + trace + "-0000000000000000-01",                   // zero parent id
        "ff-" + trace + "-" + parent + "-01",                     // version ff is invalid
        "cc-" + trace + "-" + parent + "-01.",                    // a later version needs '-' after the flags
        "00_" + trace + "-" + parent + "-01",
        "00-" + trace + "-" + parent + "-0g",
    };
    std::set<std::string> traces;
    for (const auto& value : invalid) {
        keel::header_map h{{"tracestate", "congo=t61rcWkgMzE"}};
        if (!value.empty()) h.add("traceparent", value);
        got = c.get("/trace", h).json();
        const auto made = got["trace"].get<std::string>();
        EXPECT_NE(made, trace) << value;
        EXPECT_EQ(made.size(), 32U);
        EXPECT_EQ(made.find_first_not_of("0123456789abcdef"), std::string::npos) << made;
        EXPECT_EQ(got["parent"], "") << value;
        EXPECT_EQ(got["flags"], 0) << value;
        EXPECT_EQ(got["state"], "") << value;
        EXPECT_TRUE(is_span(got["span"].get<std::string>()));
        traces.insert(made);
    }
    EXPECT_EQ(traces.size(), invalid.size()) << "each new trace has a new id";

    // Two traceparent fields are invalid; an over-long or unprintable tracestate is dropped.
    got = c.get("/trace", {{"traceparent", "00-" + trace + "-" + parent + "-01"},
                           {"traceparent", "00-" + trace + "-" + parent + "-00"}})
              .json();
    EXPECT_NE(got["trace"], trace);
    got = c.get("/trace", {{"traceparent", "00-" + trace + "-" + parent + "-00"},
                           {"tracestate", "a=" + std::string(511, 'b')}})
              .json();
    EXPECT_EQ(got["trace"], trace);
    EXPECT_EQ(got["state"], "") << "over 512 characters";
    got = c.get("/trace", {{"traceparent", "00-" + trace + "-" + parent + "-00"}, {"tracestate", "a=b\x01"}})
              .json();
    EXPECT_EQ(got["state"], "");
}

TEST(AppTest, TheAccessLogAndErrorLinesNameTheTrace) {
    keel::app app;
    captured_log log;
    log.attach(app.logger());
    app.use(keel::access_log(app.logger()));
    app.get("/boom", []() -> int { throw std::runtime_error("kaput"); });
    client c{app};
    c.get("/boom", {{"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}});
    EXPECT_TRUE(log.contains("keel: unhandled exception in GET /boom: kaput request_id="))
        << "the error line";
    EXPECT_TRUE(log.contains(" trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=")) << "the trace";
    EXPECT_TRUE(log.contains("\"GET /boom HTTP/1.1\" 500 request_id=")) << "the access log line";
}

TEST(AppTest, ApplicationExceptionHandlersAnswerTheirTypes) {
    keel::app app;
    app.exception_handler<teapot_error>([](const teapot_error& e, const keel::request& req) {
        return keel::response::json({{"teapot", e.what()}, {"path", std::string(req.path())}},
                                    keel::status{418});
    });
    app.get("/tea", []() -> int { throw teapot_error("short and stout"); });
    app.get("/other", []() -> int { throw std::logic_error("not tea"); });
    client c{app};
    const auto tea = c.get("/tea");
    EXPECT_EQ(keel::to_int(tea.status()), 418u) << tea;
    EXPECT_EQ(tea.json()["teapot"], "short and stout");
    EXPECT_EQ(c.get("/other").status(), keel::status::internal_server_error);
}

TEST(AppTest, DeclaredSuccessStatusIsUsed) {
    keel::app app;
    app.post("/things", [] { return json{{"id", 1}}; }).status(keel::status::created);
    app.delete_("/things/{id}", [](keel::path<int>) {}).status(keel::status::no_content);
    client c{app};
    EXPECT_EQ(c.post("/things", json::object()).status(), keel::status::created);
    const auto deleted = c.delete_("/things/1");
    EXPECT_EQ(deleted.status(), keel::status::no_content) << deleted;
    EXPECT_EQ(deleted.text(), "");
}

TEST(AppTest, VoidHandlerAnswersNull) {
    keel::app app;
    app.get("/", [] {});
    client c{app};
    const auto res = c.get("/");
    EXPECT_EQ(res.status(), keel::status::ok);
    EXPECT_EQ(res.text(), "null");
}

TEST(AppTest, ResponseObjectsPassThroughWithTheirOwnStatusAndHeaders) {
    keel::app app;
    app.get("/raw", [] {
        auto res = keel::response::bytes(std::string("\x00\x01", 2), "application/octet-stream",
                                         keel::status::accepted);
        res.headers().set("X-Thing", "1");
        return res;
    });
    client c{app};
    const auto res = c.get("/raw");
    EXPECT_EQ(res.status(), keel::status::accepted);
    EXPECT_EQ(res.text().size(), 2u);
    EXPECT_EQ(res.header("X-Thing").value_or(""), "1");
    EXPECT_EQ(res.header("Content-Type").value_or(""), "application/octet-stream");
}

TEST(AppTest, StringsAreAnsweredAsJsonStrings) {
    keel::app app;
    app.get("/", [] { return std::string("say \"hi\""); });
    client c{app};
    const auto res = c.get("/");
    EXPECT_EQ(res.text(), R"("say \"hi\"")");
    EXPECT_EQ(res.header("Content-Type").value_or(""), "application/json");
}

TEST(AppTest, CoroutineHandlersRunAndMayOffloadBlockingWork) {
    keel::app app;
    app.get("/co/{n}", [](keel::path<int> n) -> keel::task<int> {
        const int doubled = co_await keel::offload([v = *n] { return v * 2; });
        co_return doubled + 1;
    });
    app.get("/co-throws", []() -> keel::task<int> {
        co_await keel::offload([] {});
        throw keel::http_error(keel::status::conflict, "taken");
    });
    client c{app};
    EXPECT_EQ(c.get("/co/20").json(), 41);
    EXPECT_EQ(c.get("/co-throws").status(), keel::status::conflict);
    EXPECT_EQ(c.get("/co/x").status(), keel::status::unprocessable_entity);
}

TEST(AppTest, HandlerThrowingValidationErrorGets422) {
    keel::app app;
    app.get("/", []() -> int {
        throw keel::validation_error({{{"query", "sort"}, "unknown column", "value_error"}});
    });
    client c{app};
    const auto res = c.get("/");
    EXPECT_EQ(res.status(), keel::status::unprocessable_entity);
    EXPECT_EQ(res.json()["detail"][0]["msg"], "unknown column");
}
