#include <keel/query.hpp>

#include <gtest/gtest.h>
#include <keel/app.hpp>
#include <keel/testing/client.hpp>

#include <optional>
#include <string>
#include <vector>

using keel::testing::client;
using keel::testing::parse_json;
using nlohmann::json;

TEST(QueryTest, RequiredParameterMissingIs422) {
    keel::app app;
    app.get("/items", [](keel::query<int, "limit"> limit) { return *limit; });
    client c{app};
    const auto res = c.get("/items");
    EXPECT_EQ(res.status(), keel::status::unprocessable_entity) << res;
    EXPECT_EQ(res.json(), parse_json(R"({"detail":[{"loc":["query","limit"],"msg":"field required",
                                         "type":"value_error.missing"}]})"));
    EXPECT_EQ(c.get("/items?limit=5").json(), 5);
}

TEST(QueryTest, OptionalParameterMayBeAbsent) {
    keel::app app;
    app.get("/items", [](keel::query<std::optional<std::string>, "q"> q) { return q->value_or("<none>"); });
    client c{app};
    EXPECT_EQ(c.get("/items").json(), "<none>");
    EXPECT_EQ(c.get("/items?q=a+b%21").json(), "a b!");
}

TEST(QueryTest, DefaultAppliesWhenAbsent) {
    keel::app app;
    app.get("/items", [](keel::query<int, "limit", 20> limit) { return *limit; });
    client c{app};
    EXPECT_EQ(c.get("/items").json(), 20);
    EXPECT_EQ(c.get("/items?limit=3").json(), 3);
    EXPECT_EQ(c.get("/items?limit=x").status(), keel::status::unprocessable_entity);
}

TEST(QueryTest, VectorCollectsRepeatedKeys) {
    keel::app app;
    app.get("/items", [](keel::query<std::vector<int>, "id"> ids) { return *ids; });
    client c{app};
    EXPECT_EQ(c.get("/items?id=1&id=2&other=x&id=3").json(), parse_json("[1,2,3]"));
    EXPECT_EQ(c.get("/items").json(), json::array());
}

TEST(QueryTest, EveryFailingParameterIsNamed) {
    keel::app app;
    app.get("/items/{id}", [](keel::path<int> id, keel::query<int, "limit"> limit,
                              keel::query<bool, "full"> full) { return *id + *limit + (*full ? 1 : 0); });
    client c{app};
    const auto res = c.get("/items/x?full=perhaps");
    ASSERT_EQ(res.status(), keel::status::unprocessable_entity) << res;
    const auto detail = res.json()["detail"];
    ASSERT_EQ(detail.size(), 3u) << res;
    EXPECT_EQ(detail[0]["loc"], parse_json(R"(["path","id"])"));
    EXPECT_EQ(detail[1]["loc"], parse_json(R"(["query","limit"])"));
    EXPECT_EQ(detail[2]["loc"], parse_json(R"(["query","full"])"));
}
