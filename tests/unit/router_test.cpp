#include <keel/router.hpp>

#include <gtest/gtest.h>
#include <keel/app.hpp>
#include <keel/testing/client.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>

using keel::testing::client;

TEST(RouterTest, StaticSegmentBeatsParameter) {
    keel::app app;
    app.get("/users/{user_id}", [](keel::path<std::string> id) { return "param:" + *id; });
    app.get("/users/me", [] { return std::string("static"); });
    client c{app};
    EXPECT_EQ(c.get("/users/me").json(), "static");
    EXPECT_EQ(c.get("/users/you").json(), "param:you");
}

TEST(RouterTest, FallsBackToParameterWhenTheStaticBranchDoesNotMatchFurther) {
    keel::app app;
    app.get("/users/me", [] { return 1; });
    app.get("/users/{id}/posts", [](keel::path<std::string> id) { return "posts of " + *id; });
    client c{app};
    EXPECT_EQ(c.get("/users/me/posts").json(), "posts of me");
}

TEST(RouterTest, UnknownPathIs404WithFastApiBody) {
    keel::app app;
    app.get("/a", [] { return 1; });
    client c{app};
    const auto res = c.get("/b");
    EXPECT_EQ(res.status(), keel::status::not_found) << res;
    EXPECT_EQ(res.text(), R"({"detail":"Not Found"})");
}

TEST(RouterTest, WrongMethodIs405WithAllow) {
    keel::app app;
    app.get("/items", [] { return 1; });
    app.post("/items", [] { return 2; });
    client c{app};
    const auto res = c.send(keel::method::delete_, "/items");
    EXPECT_EQ(res.status(), keel::status::method_not_allowed) << res;
    EXPECT_EQ(res.header("Allow").value_or(""), "GET, HEAD, POST");
    EXPECT_EQ(res.text(), R"({"detail":"Method Not Allowed"})");
}

TEST(RouterTest, HeadIsAnsweredByTheGetRoute) {
    keel::app app;
    app.get("/thing", [] { return keel::response::text("body"); });
    client c{app};
    const auto res = c.head("/thing");
    EXPECT_EQ(res.status(), keel::status::ok) << res;
    EXPECT_EQ(res.text(), "");
}

TEST(RouterTest, PathParametersArePercentDecodedPerSegment) {
    keel::app app;
    app.get("/files/{name}", [](keel::path<std::string> name) { return *name; });
    client c{app};
    EXPECT_EQ(c.get("/files/a%2Fb%20c").json(), "a/b c");
}

TEST(RouterTest, TrailingSlashIsADifferentPath) {
    keel::app app;
    app.get("/users", [] { return 1; });
    client c{app};
    EXPECT_EQ(c.get("/users/").status(), keel::status::not_found);
    EXPECT_EQ(c.get("/users").status(), keel::status::ok);
}

TEST(RouterTest, RootPathRoutes) {
    keel::app app;
    app.get("/", [] { return std::string("root"); });
    client c{app};
    EXPECT_EQ(c.get("/").json(), "root");
    EXPECT_EQ(c.get("/?x=1").json(), "root");
}

TEST(RouterTest, IncludedRouterServesUnderItsPrefix) {
    keel::router users{"/users"};
    users.get("/{user_id}", [](keel::path<std::int64_t> id) { return *id; });
    keel::router api{"/api/v1/"};
    api.include(users);
    keel::app app;
    app.include(api);
    client c{app};
    EXPECT_EQ(c.get("/api/v1/users/7").json(), 7);
    EXPECT_EQ(c.get("/users/7").status(), keel::status::not_found);
}

TEST(RouterTest, ConflictingRoutesAreAnErrorWhenTheAppIsBuilt) {
    keel::app app;
    app.get("/users/{id}", [](keel::path<int>) { return 1; });
    app.get("/users/{user_id}", [](keel::path<int>) { return 2; });
    try {
        app.build();
        FAIL() << "build() accepted two GET routes of the same shape";
    } catch (const std::logic_error& e) {
        EXPECT_NE(std::string(e.what()).find("GET /users/{user_id} conflicts with GET /users/{id}"),
                  std::string::npos)
            << e.what();
    }
}

TEST(RouterTest, SameShapeWithDifferentMethodsIsNoConflict) {
    keel::app app;
    app.get("/users/{id}", [](keel::path<int> id) { return *id; });
    app.delete_("/users/{id}", [](keel::path<int> id) { return -*id; });
    EXPECT_NO_THROW(app.build());
}

TEST(RouterTest, MalformedTemplatesAreRejectedAtRegistration) {
    keel::app app;
    EXPECT_THROW(app.get("no-slash", [] { return 1; }), std::invalid_argument);
    EXPECT_THROW(app.get("/a/{b", [] { return 1; }), std::invalid_argument);
    EXPECT_THROW(app.get("/a/x{b}", [] { return 1; }), std::invalid_argument);
    EXPECT_THROW(app.get("/a/{1b}", [] { return 1; }), std::invalid_argument);
    EXPECT_THROW(app.get("/{a}/{a}", [](keel::path<int>) { return 1; }), std::invalid_argument);
    EXPECT_THROW(keel::router{"api"}, std::invalid_argument);
}

TEST(RouterTest, NamedPathParameterMissingFromTheTemplateFailsTheBuild) {
    keel::app app;
    app.get("/users/{id}", [](keel::path<int, "user_id"> id) { return *id; });
    try {
        app.build();
        FAIL() << "build() accepted path<int, \"user_id\"> on /users/{id}";
    } catch (const std::logic_error& e) {
        EXPECT_NE(std::string(e.what()).find("no {user_id}"), std::string::npos) << e.what();
    }
}

TEST(RouterTest, MorePositionalPathParametersThanPlaceholdersFailsTheBuild) {
    keel::app app;
    app.get("/users/{id}", [](keel::path<int>, keel::path<int>) { return 1; });
    EXPECT_THROW(app.build(), std::logic_error);
}

TEST(RouterTest, AppCannotChangeOnceBuilt) {
    keel::app app;
    app.get("/a", [] { return 1; });
    client c{app};
    EXPECT_THROW(app.get("/b", [] { return 2; }), std::logic_error);
    EXPECT_THROW(app.use([](keel::request& r, keel::next n) { return n(r); }), std::logic_error);
}
