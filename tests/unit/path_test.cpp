#include <keel/path.hpp>

#include <gtest/gtest.h>
#include <keel/app.hpp>
#include <keel/testing/client.hpp>

#include <cstdint>
#include <string>

using keel::testing::client;
using keel::testing::parse_json;
using nlohmann::json;

TEST(PathTest, ConvertsToTheDeclaredType) {
    keel::app app;
    app.get("/users/{user_id}", [](keel::path<std::int64_t> user_id) { return *user_id * 2; });
    client c{app};
    EXPECT_EQ(c.get("/users/21").json(), 42);
}

TEST(PathTest, NotAnIntegerIs422NamingTheParameter) {
    keel::app app;
    app.get("/users/{user_id}", [](keel::path<std::int64_t> user_id) { return *user_id; });
    client c{app};
    const auto res = c.get("/users/abc");
    EXPECT_EQ(res.status(), keel::status::unprocessable_entity) << res;
    EXPECT_EQ(res.json(),
              parse_json(R"({"detail":[{"loc":["path","user_id"],"msg":"value is not a valid integer",
                                         "type":"type_error.integer"}]})"));
}

TEST(PathTest, OutOfRangeIs422) {
    keel::app app;
    app.get("/n/{n}", [](keel::path<std::int32_t> n) { return *n; });
    client c{app};
    const auto res = c.get("/n/99999999999");
    EXPECT_EQ(res.status(), keel::status::unprocessable_entity) << res;
    EXPECT_EQ(res.json()["detail"][0]["type"], "value_error.number.not_in_range");
}

TEST(PathTest, TrailingGarbageAndEmptyNumbersAreRejected) {
    keel::app app;
    app.get("/n/{n}", [](keel::path<int> n) { return *n; });
    client c{app};
    EXPECT_EQ(c.get("/n/12x").status(), keel::status::unprocessable_entity);
    EXPECT_EQ(c.get("/n/1.5").status(), keel::status::unprocessable_entity);
    EXPECT_EQ(c.get("/n/%20").status(), keel::status::unprocessable_entity);
    EXPECT_EQ(c.get("/n/-3").json(), -3);
}

TEST(PathTest, NamedParametersBindByNameWhateverTheirOrder) {
    keel::app app;
    app.get("/a/{x}/b/{y}",
            [](keel::path<std::string, "y"> y, keel::path<std::string, "x"> x) { return *x + *y; });
    client c{app};
    EXPECT_EQ(c.get("/a/1/b/2").json(), "12");
}

TEST(PathTest, PositionalParametersBindInTemplateOrder) {
    keel::app app;
    app.get("/a/{x}/b/{y}", [](keel::path<int> x, keel::path<int> y) { return x * 10 + y; });
    client c{app};
    EXPECT_EQ(c.get("/a/1/b/2").json(), 12);
}

TEST(PathTest, FloatAndBoolParameters) {
    keel::app app;
    app.get("/f/{v}", [](keel::path<double> v) { return *v; });
    app.get("/b/{v}", [](keel::path<bool> v) { return *v; });
    client c{app};
    EXPECT_DOUBLE_EQ(c.get("/f/2.5").json().get<double>(), 2.5);
    EXPECT_EQ(c.get("/b/yes").json(), true);
    EXPECT_EQ(c.get("/b/off").json(), false);
    EXPECT_EQ(c.get("/b/maybe").json()["detail"][0]["type"], "type_error.bool");
}
