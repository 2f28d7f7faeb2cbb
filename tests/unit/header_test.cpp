#include <keel/header.hpp>

#include <gtest/gtest.h>
#include <keel/app.hpp>
#include <keel/testing/client.hpp>

#include <optional>
#include <string>

using keel::testing::client;
using keel::testing::parse_json;

TEST(HeaderTest, BindsCaseInsensitively) {
    keel::app app;
    app.get("/", [](keel::header<std::string, "x-request-id"> id) { return *id; });
    client c{app};
    keel::header_map h;
    h.add("X-Request-ID", "abc");
    EXPECT_EQ(c.get("/", h).json(), "abc");
}

TEST(HeaderTest, RequiredHeaderMissingIs422) {
    keel::app app;
    app.get("/", [](keel::header<int, "x-count"> n) { return *n; });
    client c{app};
    const auto res = c.get("/");
    EXPECT_EQ(res.status(), keel::status::unprocessable_entity) << res;
    EXPECT_EQ(res.json()["detail"][0]["loc"], parse_json(R"(["header","x-count"])"));
}

TEST(HeaderTest, OptionalAndDefault) {
    keel::app app;
    app.get("/",
            [](keel::header<std::optional<std::string>, "if-none-match"> tag,
               keel::header<int, "x-page", 1> page) { return tag->value_or("-") + std::to_string(*page); });
    client c{app};
    EXPECT_EQ(c.get("/").json(), "-1");
    keel::header_map h;
    h.add("If-None-Match", "\"v1\"");
    h.add("X-Page", "4");
    EXPECT_EQ(c.get("/", h).json(), "\"v1\"4");
}

TEST(HeaderTest, RawRequestIsAvailableToo) {
    keel::app app;
    app.get("/",
            [](const keel::request& req) { return std::string(req.header("user-agent").value_or("?")); });
    client c{app};
    keel::header_map h;
    h.add("User-Agent", "tests");
    EXPECT_EQ(c.get("/", h).json(), "tests");
}
