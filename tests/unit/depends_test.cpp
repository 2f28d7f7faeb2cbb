#include <keel/depends.hpp>

#include <gtest/gtest.h>
#include <keel/app.hpp>
#include <keel/database_error.hpp>
#include <keel/http_error.hpp>
#include <keel/testing/client.hpp>
#include <keel/yield.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

using keel::testing::client;
using keel::testing::parse_json;

namespace {

// What providers did, in order, for the tests to read.
std::vector<std::string> events;

struct counter {
    int value;
};
int made = 0;
counter make_counter() {
    return counter{++made};
}
using counter_dep = keel::depends<make_counter>;
using fresh_counter = keel::depends<make_counter, keel::scope::transient>;

// A session-like resource: commits on success, rolls back on failure.
struct fake_session {
    std::string name;
};
keel::yield<fake_session> open_session() {
    fake_session s{"db"};
    events.push_back("open");
    try {
        co_yield s;
        events.push_back("commit");
    } catch (const std::exception& e) {
        events.push_back(std::string("rollback: ") + e.what());
        throw;
    }
}
using session_dep = keel::depends<open_session>;

struct user {
    std::string name;
};
// A provider built on another provider and on the request.
user current_user(session_dep session, keel::header<std::string, "x-user"> name) {
    events.push_back("user from " + session->name);
    if (*name == "intruder") throw keel::http_error(keel::status::forbidden, "go away");
    return user{*name};
}
using user_dep = keel::depends<current_user>;

keel::yield<int> outer_resource() {
    events.push_back("outer up");
    co_yield 1;
    events.push_back("outer down");
}
keel::yield<int> inner_resource(keel::depends<outer_resource> outer) {
    events.push_back("inner up");
    co_yield *outer + 1;
    events.push_back("inner down");
}

keel::yield<int> commit_that_fails() {
    co_yield 0;
    throw std::runtime_error("commit failed");
}

keel::yield<int> broken_setup() {
    throw std::runtime_error("cannot connect");
    co_yield 0;
}

keel::yield<int> translating() {
    try {
        co_yield 0;
    } catch (const std::invalid_argument&) {
        throw keel::http_error(keel::status::conflict, "translated");
    }
}

class DependsTest : public ::testing::Test {
protected:
    void SetUp() override {
        events.clear();
        made = 0;
    }
};

}  // namespace

TEST_F(DependsTest, RequestScopedProviderRunsOncePerRequest) {
    keel::app app;
    app.get("/twice", [](counter_dep a, counter_dep b) { return a->value + b->value; });
    client c{app};
    EXPECT_EQ(c.get("/twice").json(), 2);  // both got instance #1
    EXPECT_EQ(made, 1);
    EXPECT_EQ(c.get("/twice").json(), 4);  // a new request, a new instance (#2)
    EXPECT_EQ(made, 2);
}

TEST_F(DependsTest, TransientIsMadeAtEveryInjection) {
    keel::app app;
    app.get("/", [](fresh_counter a, fresh_counter b) { return a->value * 10 + b->value; });
    client c{app};
    EXPECT_EQ(c.get("/").json(), 12);
    EXPECT_EQ(made, 2);
}

TEST_F(DependsTest, YieldProviderCommitsAfterTheHandlerSucceeds) {
    keel::app app;
    app.get("/", [](session_dep s) {
        events.push_back("handler with " + s->name);
        return 1;
    });
    client c{app};
    EXPECT_EQ(c.get("/").status(), keel::status::ok);
    EXPECT_EQ(events, (std::vector<std::string>{"open", "handler with db", "commit"}));
}

TEST_F(DependsTest, YieldProviderSeesTheHandlersExceptionAndRollsBack) {
    keel::app app;
    app.get("/", [](session_dep) -> int { throw keel::http_error(keel::status::conflict, "taken"); });
    client c{app};
    const auto res = c.get("/");
    EXPECT_EQ(res.status(), keel::status::conflict) << res;
    EXPECT_EQ(events, (std::vector<std::string>{"open", "rollback: taken"}));
}

TEST_F(DependsTest, ProvidersAreInjectedLikeHandlersAndShareTheRequestsInstances) {
    keel::app app;
    app.get("/me", [](user_dep u, session_dep s) { return u->name + "@" + s->name; });
    client c{app};
    keel::header_map h;
    h.set("X-User", "ann");
    EXPECT_EQ(c.get("/me", h).json(), "ann@db");
    EXPECT_EQ(events,
              (std::vector<std::string>{"open", "user from db", "commit"}));  // one session, opened once
}

TEST_F(DependsTest, ProviderParametersThatDoNotBindAre422) {
    keel::app app;
    app.get("/me", [](user_dep u) { return u->name; });
    client c{app};
    const auto res = c.get("/me");
    EXPECT_EQ(res.status(), keel::status::unprocessable_entity) << res;
    EXPECT_EQ(res.json()["detail"][0]["loc"], parse_json(R"(["header","x-user"])"));
}

TEST_F(DependsTest, HttpErrorFromAProviderIsTheResponseAndTeardownsSeeIt) {
    keel::app app;
    app.get("/me", [](user_dep u) { return u->name; });
    client c{app};
    keel::header_map h;
    h.set("X-User", "intruder");
    const auto res = c.get("/me", h);
    EXPECT_EQ(res.status(), keel::status::forbidden) << res;
    EXPECT_EQ(res.json()["detail"], "go away");
    EXPECT_EQ(events, (std::vector<std::string>{"open", "user from db", "rollback: go away"}));
}

TEST_F(DependsTest, TeardownsRunNewestFirst) {
    keel::app app;
    app.get("/", [](keel::depends<inner_resource> inner) { return *inner; });
    client c{app};
    EXPECT_EQ(c.get("/").json(), 2);
    EXPECT_EQ(events, (std::vector<std::string>{"outer up", "inner up", "inner down", "outer down"}));
}

TEST_F(DependsTest, FailedTeardownTurnsSuccessInto500AndTheRestStillRun) {
    keel::app app;
    app.get("/", [](session_dep, keel::depends<commit_that_fails>) { return 1; });
    client c{app};
    const auto res = c.get("/");
    EXPECT_EQ(res.status(), keel::status::internal_server_error) << res;
    // The session was set up first, so it is torn down last, and sees the commit's failure.
    EXPECT_EQ(events, (std::vector<std::string>{"open", "rollback: commit failed"}));
}

TEST_F(DependsTest, SetupFailureTearsDownTheOnesAlreadySetUp) {
    keel::app app;
    bool handler_ran = false;
    app.get("/", [&](session_dep, keel::depends<broken_setup>) {
        handler_ran = true;
        return 1;
    });
    client c{app};
    EXPECT_EQ(c.get("/").status(), keel::status::internal_server_error);
    EXPECT_FALSE(handler_ran);
    EXPECT_EQ(events, (std::vector<std::string>{"open", "rollback: cannot connect"}));
}

TEST_F(DependsTest, AYieldProviderCanReplaceTheException) {
    keel::app app;
    app.get("/", [](keel::depends<translating>) -> int { throw std::invalid_argument("duplicate"); });
    client c{app};
    const auto res = c.get("/");
    EXPECT_EQ(res.status(), keel::status::conflict) << res;
    EXPECT_EQ(res.json()["detail"], "translated");
}

TEST_F(DependsTest, CoroutineHandlersGetDependenciesAndTeardownToo) {
    keel::app app;
    app.get("/", [](session_dep s) -> keel::task<std::string> { co_return s->name; });
    app.get("/fail", [](session_dep) -> keel::task<int> {
        throw keel::http_error(keel::status::bad_request, "no");
        co_return 0;
    });
    client c{app};
    EXPECT_EQ(c.get("/").json(), "db");
    EXPECT_EQ(c.get("/fail").status(), keel::status::bad_request);
    EXPECT_EQ(events, (std::vector<std::string>{"open", "commit", "open", "rollback: no"}));
}

TEST_F(DependsTest, ARouteRetriesTheWholeHandlerOnATransactionConflict) {
    keel::app app;
    int tries = 0;
    app.post("/transfer",
             [&](session_dep) {
                 if (++tries < 3) throw keel::serialization_failure("could not serialize access", "40001");
                 return tries;
             })
        .retry_on_conflict(3);
    app.post("/always-deadlocks",
             [&](session_dep) -> int { throw keel::deadlock_detected("deadlock detected", "40P01"); })
        .retry_on_conflict(2);
    app.post("/co",
             [&](session_dep) -> keel::task<int> {
                 if (++tries < 6) throw keel::serialization_failure("again", "40001");
                 co_return tries;
             })
        .retry_on_conflict(3);
    client c{app};
    const auto res = c.post("/transfer", nullptr);
    EXPECT_EQ(res.status(), keel::status::ok) << res;
    EXPECT_EQ(res.json(), 3);
    // Each try had its own session: two rolled back, the last committed.
    EXPECT_EQ(events, (std::vector<std::string>{"open", "rollback: could not serialize access", "open",
                                                "rollback: could not serialize access", "open", "commit"}));
    events.clear();
    EXPECT_EQ(c.post("/always-deadlocks", nullptr).status(), keel::status::internal_server_error);
    EXPECT_EQ(events.size(), 4u);                 // two tries, each opened and rolled back
    EXPECT_EQ(c.post("/co", nullptr).json(), 6);  // coroutine handlers too
}
