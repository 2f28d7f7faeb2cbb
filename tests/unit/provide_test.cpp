// app.provide<T>(...): services by type, their scopes, and the graph check at build time.
#include <keel/app.hpp>

#include <gtest/gtest.h>
#include <keel/dependency_overrides.hpp>
#include <keel/depends.hpp>
#include <keel/testing/client.hpp>
#include <keel/testing/live_server.hpp>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using keel::testing::client;

namespace {

std::vector<std::string> destroyed;

struct settings {
    std::string greeting = "hello";
};
struct mailer {
    explicit mailer(const settings& s) : greeting(s.greeting) {}
    mailer(const mailer&) = delete;  // services need not move: factories may return unique_ptr
    ~mailer() { destroyed.push_back("mailer"); }
    std::string greeting;
};
struct audit_log {
    ~audit_log() { destroyed.push_back("audit_log"); }
    int entries = 0;
};

struct request_id {
    int value;
};
std::atomic<int> next_id{0};

int session_number() {
    return 42;
}
using session_number_dep = keel::depends<session_number>;

struct cache {
    int n;
};

// Two services that need each other.
struct chicken;
struct egg {
    int laid;
};
struct chicken {
    int hatched;
};

std::string test_greeting() {
    return "test";
}
std::string real_greeting() {
    return "real";
}
std::string loud(keel::depends<real_greeting> g) {
    return *g + "!";
}

}  // namespace

struct counter {
    int value;
};

TEST(ProvideTest, RequestScopedProviderRunsOncePerRequest) {
    keel::app app;
    int made = 0;
    app.provide<counter>(keel::scope::request, [&] { return counter{++made}; });
    app.get("/twice", [](counter& a, counter& b) { return a.value + b.value; });

    keel::testing::client client{app};  // in-process: no socket, no thread

    EXPECT_EQ(client.get("/twice").body(), "2");
    EXPECT_EQ(made, 1);
    EXPECT_EQ(client.get("/twice").body(), "4");  // the next request has its own
    EXPECT_EQ(made, 2);
}

TEST(ProvideTest, TestClientOverrideIsUndoneAtScopeEnd) {
    keel::app app;
    app.get("/", [](keel::depends<real_greeting> g) { return *g; });
    client c{app};
    {
        auto restore = c.override(real_greeting, [] { return std::string("replacement"); });
        EXPECT_EQ(c.get("/").json(), "replacement");
    }
    EXPECT_EQ(c.get("/").json(), "real");
}

TEST(ProvideTest, AppScopedServicesAreMadeOnceAndDestroyedNewestFirst) {
    destroyed.clear();
    int settings_made = 0;
    {
        keel::app app;
        app.provide<settings>(keel::scope::app, [&] {
            ++settings_made;
            return settings{};
        });
        app.provide<mailer>(keel::scope::app, [](settings& s) { return std::make_unique<mailer>(s); });
        app.provide<audit_log>(keel::scope::app, [] { return std::make_shared<audit_log>(); });
        app.get("/", [](mailer& m, audit_log& log, settings&) {
            ++log.entries;
            return m.greeting + " " + std::to_string(log.entries);
        });
        client c{app};
        EXPECT_EQ(c.get("/").json(), "hello 1");
        EXPECT_EQ(c.get("/").json(), "hello 2");
        EXPECT_EQ(settings_made, 1);
        EXPECT_TRUE(destroyed.empty());
    }
    // mailer was made before audit_log (the handler asked for it first): destroyed after it.
    EXPECT_EQ(destroyed, (std::vector<std::string>{"audit_log", "mailer"}));
}

TEST(ProvideTest, RequestAndTransientServices) {
    keel::app app;
    app.provide<request_id>(keel::scope::request, [] { return request_id{++next_id}; });
    app.get("/", [](request_id& a, request_id& b) { return a.value == b.value; });
    client c{app};
    EXPECT_EQ(c.get("/").json(), true);
    const int before = next_id;
    c.get("/");
    EXPECT_EQ(next_id, before + 1);

    keel::app transient_app;
    transient_app.provide<request_id>(keel::scope::transient, [] { return request_id{++next_id}; });
    transient_app.get("/", [](request_id& a, request_id& b) { return a.value == b.value; });
    client t{transient_app};
    EXPECT_EQ(t.get("/").json(), false);
}

TEST(ProvideTest, MissingProviderIsAStartUpErrorNamingTheFix) {
    keel::app app;
    app.get("/", [](mailer& m) { return m.greeting; });
    try {
        client c{app};
        FAIL() << "an app with a missing provider was built";
    } catch (const std::logic_error& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("no provider for"), std::string::npos) << what;
        EXPECT_NE(what.find("mailer"), std::string::npos) << what;
        EXPECT_NE(what.find("app.provide<"), std::string::npos) << what;
    }
}

TEST(ProvideTest, MissingProviderDeepInTheGraphNamesWhoNeedsIt) {
    keel::app app;
    app.provide<mailer>(keel::scope::app, [](settings& s) { return std::make_unique<mailer>(s); });
    app.get("/", [](mailer& m) { return m.greeting; });
    try {
        app.build();
        FAIL() << "built without a settings provider";
    } catch (const std::logic_error& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("no provider for"), std::string::npos) << what;
        EXPECT_NE(what.find("settings"), std::string::npos) << what;
        EXPECT_NE(what.find("needed by"), std::string::npos) << what;
    }
}

TEST(ProvideTest, CycleIsAStartUpErrorNamingTheChain) {
    keel::app app;
    app.provide<egg>(keel::scope::app, [](chicken& c) { return egg{c.hatched}; });
    app.provide<chicken>(keel::scope::app, [](egg& e) { return chicken{e.laid}; });
    app.get("/", [](egg& e) { return e.laid; });
    try {
        app.build();
        FAIL() << "a cycle was accepted";
    } catch (const std::logic_error& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("dependency cycle"), std::string::npos) << what;
        EXPECT_NE(what.find("egg (app) -> "), std::string::npos) << what;
        EXPECT_NE(what.find("chicken (app) -> "), std::string::npos) << what;
    }
}

TEST(ProvideTest, AppScopedServiceCapturingARequestScopedOneIsAStartUpError) {
    keel::app app;
    app.provide<cache>(keel::scope::app, [](session_number_dep n) { return cache{*n}; });
    app.get("/", [](cache& c) { return c.n; });
    try {
        app.build();
        FAIL() << "a captive dependency was accepted";
    } catch (const std::logic_error& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("captive dependency"), std::string::npos) << what;
        EXPECT_NE(what.find("cache (app) -> "), std::string::npos) << what;
        EXPECT_NE(what.find("session_number (request)"), std::string::npos) << what;
    }
}

TEST(ProvideTest, OverrideAppliesDeepInTheGraphAndTheGuardRestores) {
    keel::app app;
    app.get("/", [](keel::depends<loud> g) { return *g; });
    client c{app};
    EXPECT_EQ(c.get("/").json(), "real!");
    {
        auto restore = app.dependency_overrides.scoped(real_greeting, [] { return std::string("fake"); });
        EXPECT_EQ(c.get("/").json(), "fake!");  // replaced inside another provider
    }
    EXPECT_EQ(c.get("/").json(), "real!");
    app.dependency_overrides.set(real_greeting, test_greeting);
    EXPECT_EQ(c.get("/").json(), "test!");
    app.dependency_overrides.clear();
    EXPECT_EQ(c.get("/").json(), "real!");
}

TEST(ProvideTest, ConcurrentRequestsShareAppServicesAndNotRequestOnes) {
    keel::app app;
    std::atomic<int> settings_made{0};
    app.provide<settings>(keel::scope::app, [&] {
        ++settings_made;
        return settings{};
    });
    app.provide<request_id>(keel::scope::request, [] { return request_id{++next_id}; });
    app.get("/", [](settings& s, request_id& a, request_id& b) {
        return s.greeting.size() + (a.value == b.value);
    });
    client keeper{app};  // the app runs (started once) for the whole test
    std::vector<std::thread> threads;
    std::atomic<int> good{0};
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            client local{app};  // requests from several threads at once through one app
            for (int i = 0; i < 50; ++i) {
                if (local.get("/").text() == "6") ++good;
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(good.load(), 200);
    EXPECT_EQ(settings_made.load(), 1);
}

TEST(ProvideTest, LifespanHooksRunAroundTheAppAndServicesDieAtShutdown) {
    destroyed.clear();
    keel::app app;
    std::vector<std::string> events;
    app.provide<audit_log>(keel::scope::app, [&] {
        events.push_back("audit_log made");
        return std::make_shared<audit_log>();
    });
    app.on_startup([&](audit_log&) { events.push_back("startup"); });
    app.on_shutdown(
        [&](audit_log& log) { events.push_back("shutdown with " + std::to_string(log.entries)); });
    app.get("/", [](audit_log& log) { return ++log.entries; });
    {
        client c{app};
        EXPECT_EQ(events, (std::vector<std::string>{"audit_log made", "startup"}));  // made in the lifespan
        c.get("/");
    }
    EXPECT_EQ(events, (std::vector<std::string>{"audit_log made", "startup", "shutdown with 1"}));
    EXPECT_EQ(destroyed, (std::vector<std::string>{"audit_log"}));  // destroyed at shut-down, not at ~app
}

TEST(ProvideTest, AFailingStartupStopsTheStart) {
    keel::app app;
    app.on_startup([] { throw std::runtime_error("database unreachable"); });
    app.get("/", [] { return 1; });
    EXPECT_THROW(client{app}, std::runtime_error);
    EXPECT_EQ(app.run(keel::testing::live_server::quiet_options()),
              1);  // a clear message and a non-zero exit
}

namespace {
struct tenant_cache {
    std::string tenant;
};
std::string current_tenant(keel::header<std::string, "x-tenant"> t) {
    return *t;
}
std::string self_referring(keel::depends<real_greeting> g) {
    return *g;
}

// build()'s message, or "" when the app fits together.
std::string build_problems(keel::app& app) {
    try {
        app.build();
        return "";
    } catch (const std::logic_error& e) {
        return e.what();
    }
}
}  // namespace

TEST(ProvideTest, AnAppScopedFactoryAskingForARequestValueIsACaptiveDependency) {
    keel::app app;
    app.provide<tenant_cache>(keel::scope::app,
                              [](keel::header<std::string, "x-tenant"> t) { return tenant_cache{*t}; });
    app.get("/", [](tenant_cache& c) { return c.tenant; });
    const auto what = build_problems(app);
    EXPECT_NE(what.find("tenant_cache (app) -> keel::header<\"x-tenant\"> (request): something app-scoped"),
              std::string::npos)
        << what;
}

TEST(ProvideTest, AnAppScopedFactoryAskingForTheRequestThroughAProviderIsACaptiveDependency) {
    keel::app app;
    app.provide<tenant_cache>(keel::scope::app,
                              [](keel::depends<current_tenant> t) { return tenant_cache{*t}; });
    const auto what = build_problems(app);  // no route uses it: services are checked all the same
    EXPECT_NE(what.find("tenant_cache (app) -> {anonymous}::current_tenant (request)"), std::string::npos)
        << what;
}

TEST(ProvideTest, ALifespanHookAskingForRequestThingsIsACaptiveDependency) {
    keel::app app;
    app.on_startup([](keel::request& req) { (void)req; });
    app.on_shutdown([](session_number_dep n) { (void)n; });
    const auto what = build_problems(app);
    EXPECT_NE(what.find("on_startup hook (app) -> keel::request& (request)"), std::string::npos) << what;
    EXPECT_NE(what.find("on_shutdown hook (app) -> {anonymous}::session_number (request)"), std::string::npos)
        << what;
}

TEST(ProvideTest, ARequestScopedFactoryMayAskForRequestValues) {
    keel::app app;
    app.provide<tenant_cache>(keel::scope::request,
                              [](keel::header<std::string, "x-tenant"> t) { return tenant_cache{*t}; });
    app.get("/", [](tenant_cache& c) { return c.tenant; });
    EXPECT_EQ(build_problems(app), "");
    client c(app);
    EXPECT_EQ(c.get("/", {{"x-tenant", "acme"}}).body(), "\"acme\"");
}

TEST(ProvideTest, AnOverrideSetOnABuiltAppIsCheckedAtOnce) {
    keel::app app;
    app.get("/", [](keel::depends<real_greeting> g) { return *g; });
    client c(app);  // builds the app

    try {
        app.dependency_overrides.set(real_greeting, [](mailer& m) { return m.greeting; });
        FAIL() << "an override needing a missing service was accepted";
    } catch (const std::logic_error& e) {
        EXPECT_NE(std::string(e.what()).find("mailer>(...) (needed by the replacement provider of"),
                  std::string::npos)
            << e.what();
    }
    try {
        app.dependency_overrides.set(real_greeting, self_referring);
        FAIL() << "an override asking for the provider it replaces was accepted";
    } catch (const std::logic_error& e) {
        EXPECT_NE(std::string(e.what()).find("dependency cycle"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(app.dependency_overrides.empty()) << "a refused override must change nothing";
    EXPECT_EQ(c.get("/").body(), "\"real\"");
    app.dependency_overrides.set(real_greeting, test_greeting);  // a fitting one is taken
    EXPECT_EQ(c.get("/").body(), "\"test\"");
}

TEST(ProvideTest, AnOverrideSetBeforeTheBuildIsCheckedByTheBuild) {
    keel::app app;
    app.get("/", [](keel::depends<real_greeting> g) { return *g; });
    app.dependency_overrides.set(real_greeting, [](mailer& m) { return m.greeting; });
    const auto what = build_problems(app);
    EXPECT_NE(what.find("mailer>(...) (needed by {anonymous}::real_greeting)"), std::string::npos) << what;
}
