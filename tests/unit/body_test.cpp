#include <keel/body.hpp>

#include <gtest/gtest.h>
#include <keel/app.hpp>
#include <keel/testing/client.hpp>

#include <cstdint>
#include <optional>
#include <string>

using keel::testing::client;
using keel::testing::parse_json;
using nlohmann::json;

namespace {
struct new_user {
    std::string email;
    std::string name;
    NLOHMANN_DEFINE_TYPE_INTRUSIVE(new_user, email, name)
};

keel::app& user_app() {
    static keel::app app;
    static bool once = [] {
        app.post("/users",
                 [](keel::body<new_user> user) {
                     return json{{"email", user->email}, {"name", user->name}};
                 })
            .status(keel::status::created);
        app.post("/maybe", [](keel::body<std::optional<new_user>> user) { return user->has_value(); });
        return true;
    }();
    (void)once;
    return app;
}
}  // namespace

TEST(BodyTest, JsonBodyBindsIntoAStruct) {
    client c{user_app()};
    const auto res = c.post("/users", {{"email", "a@b.c"}, {"name", "A"}});
    EXPECT_EQ(res.status(), keel::status::created) << res;
    EXPECT_EQ(res.json()["email"], "a@b.c");
}

TEST(BodyTest, MissingFieldIs422NamingIt) {
    client c{user_app()};
    const auto res = c.post("/users", {{"name", "A"}});
    ASSERT_EQ(res.status(), keel::status::unprocessable_entity) << res;
    EXPECT_EQ(res.json()["detail"][0]["loc"], parse_json(R"(["body","email"])"));
    EXPECT_EQ(res.json()["detail"][0]["type"], "value_error.missing");
}

TEST(BodyTest, WrongTypeIs422) {
    client c{user_app()};
    const auto res = c.post("/users", {{"email", 5}, {"name", "A"}});
    ASSERT_EQ(res.status(), keel::status::unprocessable_entity) << res;
    EXPECT_EQ(res.json()["detail"][0]["type"], "type_error");
}

TEST(BodyTest, MalformedJsonIs422) {
    client c{user_app()};
    keel::header_map h;
    h.set("Content-Type", "application/json");
    const auto res = c.send(keel::method::post, "/users", "{\"email\": ", h);
    ASSERT_EQ(res.status(), keel::status::unprocessable_entity) << res;
    EXPECT_EQ(res.json()["detail"][0]["type"], "value_error.jsondecode");
}

TEST(BodyTest, NotAnObjectIs422) {
    client c{user_app()};
    EXPECT_EQ(c.post("/users", json::array({1, 2})).status(), keel::status::unprocessable_entity);
    EXPECT_EQ(c.post("/users", "string").status(), keel::status::unprocessable_entity);
}

TEST(BodyTest, WrongContentTypeIs422) {
    client c{user_app()};
    keel::header_map h;
    h.set("Content-Type", "text/plain");
    const auto res = c.send(keel::method::post, "/users", R"({"email":"a","name":"b"})", h);
    ASSERT_EQ(res.status(), keel::status::unprocessable_entity) << res;
    EXPECT_EQ(res.json()["detail"][0]["type"], "value_error.content_type");
}

TEST(BodyTest, JsonSuffixMediaTypesAndParametersAreAccepted) {
    client c{user_app()};
    keel::header_map h;
    h.set("Content-Type", "application/merge-patch+json; charset=utf-8");
    EXPECT_EQ(c.send(keel::method::post, "/users", R"({"email":"a","name":"b"})", h).status(),
              keel::status::created);
}

TEST(BodyTest, EmptyBodyIsMissingUnlessOptional) {
    client c{user_app()};
    const auto res = c.send(keel::method::post, "/users");
    ASSERT_EQ(res.status(), keel::status::unprocessable_entity) << res;
    EXPECT_EQ(res.json()["detail"][0]["loc"], parse_json(R"(["body"])"));
    EXPECT_EQ(c.send(keel::method::post, "/maybe").json(), false);
    EXPECT_EQ(c.post("/maybe", {{"email", "a"}, {"name", "b"}}).json(), true);
}

TEST(BodyTest, JsonNullIsNoBodyForAnOptionalBodyAndMissingOtherwise) {
    client c{user_app()};
    keel::header_map h;
    h.set("Content-Type", "application/json");
    EXPECT_EQ(c.send(keel::method::post, "/maybe", "null", h).json(), false);
    EXPECT_EQ(c.post("/maybe", nlohmann::json(nullptr)).json(), false);
    const auto res = c.send(keel::method::post, "/users", "null", h);
    ASSERT_EQ(res.status(), keel::status::unprocessable_entity) << res;
    EXPECT_EQ(res.json()["detail"][0]["loc"], parse_json(R"(["body"])"));
}

TEST(BodyTest, PostWithNullptrSendsNoBody) {
    keel::app app;
    app.post("/echo", [](keel::request& req) {
        return std::string(req.body()) + "|" + std::string(req.header("content-type").value_or("none"));
    });
    client c{app};
    EXPECT_EQ(c.post("/echo", nullptr).json(), "|none");
    EXPECT_EQ(c.put("/echo", nullptr).status(), keel::status::method_not_allowed);
    EXPECT_EQ(c.post("/echo", nlohmann::json(nullptr)).json(), "null|application/json");
}

TEST(BodyTest, NumbersTooLargeForADoubleAre422Not500) {
    client c{user_app()};
    keel::header_map h;
    h.set("Content-Type", "application/json");
    const auto res = c.send(keel::method::post, "/users", R"({"email":"a","name":"b","x":1e400000000})", h);
    EXPECT_EQ(res.status(), keel::status::unprocessable_entity) << res;
}

TEST(BodyTest, DeeplyNestedJsonIsRejectedWithoutCrashing) {
    client c{user_app()};
    keel::header_map h;
    h.set("Content-Type", "application/json");
    const std::string deep = std::string(100000, '[') + std::string(100000, ']');
    EXPECT_EQ(c.send(keel::method::post, "/users", deep, h).status(), keel::status::unprocessable_entity);
}
