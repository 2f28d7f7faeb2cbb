#include <keel/health.hpp>

#include <gtest/gtest.h>
#include <keel/app.hpp>
#include <keel/testing/client.hpp>

#include <stdexcept>
#include <string>

using keel::testing::client;
using nlohmann::json;

namespace {
struct readiness_counter {
    int* asked;
};
struct per_request {};
}  // namespace

TEST(HealthTest, LivenessAndReadinessWithEveryCheckPassing) {
    keel::app app;
    int asked = 0;
    app.provide<readiness_counter>(keel::scope::app, [&] { return readiness_counter{&asked}; });
    app.readiness_check("cache", [](readiness_counter& c) { ++*c.asked; });
    app.readiness_check("queue", [](readiness_counter& c) { return ++*c.asked > 0; });
    app.include(keel::health_router());
    client c{app};
    auto res = c.get("/healthz");
    EXPECT_EQ(res.status(), 200);
    EXPECT_EQ(res.json(), (json{{"status", "ok"}}));
    EXPECT_EQ(asked, 0) << "liveness runs no check";
    res = c.get("/readyz");
    EXPECT_EQ(res.status(), 200);
    EXPECT_EQ(res.json(), (json{{"status", "ok"}}));
    EXPECT_EQ(asked, 2) << "both checks ran, with their injected service";
    EXPECT_EQ(c.get("/readyz").status(), 200);
    EXPECT_EQ(asked, 4) << "every probe asks every check again";
}

TEST(HealthTest, ReadinessNamesTheFirstFailingCheckAndEveryAnswer) {
    keel::app app;
    int calls = 0;
    app.readiness_check("database", [&] { ++calls; });
    app.readiness_check("search", [&]() -> void {
        ++calls;
        throw std::runtime_error("search cluster unreachable");
    });
    app.readiness_check("mail", [&] {
        ++calls;
        return false;
    });
    app.include(keel::health_router({.liveness_path = "/live", .readiness_path = "/ready"}));
    client c{app};
    const auto res = c.get("/ready");
    EXPECT_EQ(res.status(), 503);
    EXPECT_EQ(
        res.json(),
        (json{{"status", "unavailable"},
              {"failing", "search"},
              {"checks",
               {{"database", "ok"}, {"search", "search cluster unreachable"}, {"mail", "not ready"}}}}));
    EXPECT_EQ(calls, 3) << "every check runs, so the answer names each one's state";
    EXPECT_EQ(c.get("/live").status(), 200) << "liveness does not depend on readiness";
}

TEST(HealthTest, AReadinessCheckMayUseOnlyAppServices) {
    keel::app app;
    app.provide<per_request>(keel::scope::request, [] { return per_request{}; });
    app.readiness_check("odd", [](per_request&) {});
    app.include(keel::health_router());
    try {
        app.build();
        FAIL() << "built";
    } catch (const std::logic_error& e) {
        EXPECT_NE(std::string(e.what()).find("readiness check \"odd\""), std::string::npos) << e.what();
    }
}

TEST(HealthTest, HandlersCanAskForTheReadiness) {
    keel::app app;
    app.readiness_check("always", [] {});
    app.get("/status", [](const keel::readiness& r) {
        const auto report = r.check();
        return json{{"ready", report.ready}, {"draining", report.draining}, {"checks", report.checks.size()}};
    });
    client c{app};
    EXPECT_EQ(c.get("/status").json(), (json{{"ready", true}, {"draining", false}, {"checks", 1}}));
}
