#include <keel/logger.hpp>

#include <keel/access_log.hpp>
#include <keel/app.hpp>
#include <keel/path.hpp>
#include <keel/request_logger.hpp>
#include <keel/testing/client.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {
// 2026-12-05T06:30:00.123Z
constexpr auto at = std::chrono::system_clock::time_point(1796452200s + 123ms);

keel::log_record record(keel::log_level level, std::string_view message,
                        std::span<const keel::log_field> fields,
                        std::span<const keel::log_field> context = {}) {
    return {at, level, message, context, fields};
}
}  // namespace

TEST(LoggerTest, TextLinesAreTimeLevelMessageThenFields) {
    const keel::log_field fields[] = {{"user", 7},   {"cents", -250}, {"rate", 0.25},
                                      {"ok", false}, {"name", "ada"}, {"bytes", std::size_t{4096}}};
    EXPECT_EQ(keel::format_text(record(keel::log_level::info, "transfer refused", fields)),
              "2026-12-05T06:30:00.123Z info transfer refused user=7 cents=-250 rate=0.25 ok=false name=ada "
              "bytes=4096");
}

TEST(LoggerTest, TextValuesThatCouldBeMisreadAreQuoted) {
    const keel::log_field fields[] = {{"a", "two words"},   {"b", "x=y"}, {"c", "say \"hi\""},
                                      {"d", "back\\slash"}, {"e", ""},    {"f", "line\nbreak"},
                                      {"g", "/users/{id}"}};
    EXPECT_EQ(
        keel::format_text(record(keel::log_level::warning, "m", fields)),
        R"(2026-12-05T06:30:00.123Z warning m a="two words" b="x=y" c="say \"hi\"" d="back\\slash" e="" )"
        R"(f="line\nbreak" g=/users/{id})");
}

TEST(LoggerTest, AMessageNeverBecomesTwoLines) {
    const auto line = keel::format_text(record(keel::log_level::error, "first\nsecond\r\x01", {}));
    EXPECT_EQ(line, R"(2026-12-05T06:30:00.123Z error first\nsecond\r\x01)");
    EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST(LoggerTest, JsonLinesParseBackWithTypedFields) {
    const keel::log_field context[] = {{"request_id", "r-1"}, {"route", "/items/{id}"}};
    const keel::log_field fields[] = {{"item", 42},
                                      {"big", std::numeric_limits<std::uint64_t>::max()},
                                      {"ratio", 1.5},
                                      {"nan", std::nan("")},
                                      {"inf", std::numeric_limits<double>::infinity()},
                                      {"ok", true},
                                      {"note", "tab\there \"quoted\" \x01"},
                                      {"bad_utf8", "caf\xc3\xa9 \xff"}};
    const auto line = keel::format_json(record(keel::log_level::debug, "a \"message\"\n", fields, context));
    EXPECT_EQ(line.find('\n'), std::string::npos) << line;
    const auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["time"], "2026-12-05T06:30:00.123Z");
    EXPECT_EQ(j["level"], "debug");
    EXPECT_EQ(j["message"], "a \"message\"\n");
    EXPECT_EQ(j["request_id"], "r-1");
    EXPECT_EQ(j["route"], "/items/{id}");
    EXPECT_EQ(j["item"], 42);
    EXPECT_EQ(j["big"].get<std::uint64_t>(), std::numeric_limits<std::uint64_t>::max());
    EXPECT_EQ(j["ratio"], 1.5);
    EXPECT_TRUE(j["nan"].is_null()) << "JSON has no NaN";
    EXPECT_TRUE(j["inf"].is_null());
    EXPECT_EQ(j["ok"], true);
    EXPECT_EQ(j["note"], "tab\there \"quoted\" \x01");
    EXPECT_EQ(j["bad_utf8"], "caf\xc3\xa9 \xef\xbf\xbd") << "an invalid byte becomes U+FFFD";
    // The order a reader sees: time, level, message, then the context, then the caller's fields.
    EXPECT_LT(line.find("\"message\""), line.find("\"request_id\""));
    EXPECT_LT(line.find("\"route\""), line.find("\"item\""));
}

TEST(LoggerTest, LevelsFilterAndParse) {
    keel::logger log;
    std::vector<std::string> lines;
    log.set_sink([&](keel::log_level, std::string_view line) { lines.emplace_back(line); });
    log.set_level(keel::log_level::warning);
    log.info("dropped");
    log.debug("dropped");
    log.warning("kept", {{"n", 1}});
    log.error("kept too");
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_TRUE(lines[0].ends_with(" warning kept n=1")) << lines[0];
    log.set_level(keel::log_level::off);
    log.error("dropped");
    EXPECT_EQ(lines.size(), 2u) << "off writes nothing, errors included";

    EXPECT_EQ(keel::parse_log_level("warn"), keel::log_level::warning);
    EXPECT_EQ(keel::parse_log_level("error"), keel::log_level::error);
    EXPECT_FALSE(keel::parse_log_level("WARNING").has_value()) << "names are lower case";
    EXPECT_FALSE(keel::parse_log_level("").has_value());
}

TEST(LoggerTest, ARecordSinkGetsTheFieldsUnformatted) {
    keel::logger log;
    std::vector<std::string> seen;
    log.set_sink([&](const keel::log_record& r) {
        seen.emplace_back(std::string(keel::to_string(r.level)) + ":" + std::string(r.message));
        for (const auto& f : r.fields) {
            seen.emplace_back(std::string(f.key) + "/" + std::to_string(static_cast<int>(f.value.type())));
        }
    });
    log.set_format(keel::log_format::json);  // a record sink formats for itself
    log.info("hello", {{"n", 3}, {"s", "x"}});
    EXPECT_EQ(seen, (std::vector<std::string>{"info:hello", "n/1", "s/0"}));
}

TEST(LoggerTest, AFailingSinkDoesNotTakeTheCallerDown) {
    keel::logger log;
    log.set_sink([](keel::log_level, std::string_view) { throw std::runtime_error("disk full"); });
    EXPECT_NO_THROW(log.error("lost"));
}

TEST(LoggerTest, ARequestLoggerNamesTheRequestOnEveryLine) {
    keel::app app;
    std::vector<std::string> lines;
    app.logger().set_sink([&](keel::log_level, std::string_view line) { lines.emplace_back(line); });
    app.logger().set_format(keel::log_format::json);
    app.get("/accounts/{id}", [](keel::path<int> id, keel::request_logger log) {
        log.info("balance read", {{"account", *id}});
        return *id;
    });
    keel::testing::client c{app};
    const auto res =
        c.get("/accounts/9", {{"x-request-id", "req-9"},
                              {"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}});
    ASSERT_EQ(res.status(), keel::status::ok) << res;
    ASSERT_EQ(lines.size(), 1u);
    const auto j = nlohmann::json::parse(lines[0]);
    EXPECT_EQ(j["message"], "balance read");
    EXPECT_EQ(j["request_id"], "req-9");
    EXPECT_EQ(j["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    EXPECT_EQ(j["span_id"].get<std::string>().size(), 16u);
    EXPECT_NE(j["span_id"], "00f067aa0ba902b7") << "the request's own span, not its parent's";
    EXPECT_EQ(j["method"], "GET");
    EXPECT_EQ(j["route"], "/accounts/{id}");
    EXPECT_EQ(j["account"], 9);
}

TEST(LoggerTest, AnUnmatchedRequestsLinesHaveNoRoute) {
    keel::app app;
    std::vector<std::string> lines;
    app.logger().set_sink([&](keel::log_level, std::string_view line) { lines.emplace_back(line); });
    app.logger().set_format(keel::log_format::json);
    app.use(keel::access_log(app.logger()));
    app.get("/here", [] { return "ok"; });
    keel::testing::client c{app};
    c.get("/nowhere");
    ASSERT_EQ(lines.size(), 1u);
    const auto j = nlohmann::json::parse(lines[0]);
    EXPECT_EQ(j["status"], 404);
    EXPECT_FALSE(j.contains("route")) << j;
    EXPECT_TRUE(j.contains("request_id"));
}
