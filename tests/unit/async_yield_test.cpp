#include <keel/async_yield.hpp>

#include <gtest/gtest.h>
#include <keel/app.hpp>
#include <keel/depends.hpp>
#include <keel/http_error.hpp>
#include <keel/sync_wait.hpp>
#include <keel/task.hpp>
#include <keel/testing/client.hpp>
#include <keel/yield.hpp>

#include <stdexcept>
#include <string>
#include <vector>

using keel::testing::client;

namespace {

std::vector<std::string> journal;

// A step of a teardown that really suspends the provider (and so the request) once.
keel::task<void> note(std::string what) {
    journal.push_back(std::move(what));
    co_return;
}

struct resource {
    std::string name = "awaited";
};
keel::async_yield<resource> open_awaited() {
    resource r;
    journal.push_back("open awaited");
    std::exception_ptr failure;
    try {
        co_yield r;
    } catch (const std::exception& e) {
        journal.push_back(std::string("handler failed: ") + e.what());
        failure = std::current_exception();
    }
    if (failure) {
        co_await note("rolled back");
        std::rethrow_exception(failure);
    }
    co_await note("committed");
}
using awaited_dep = keel::depends<open_awaited>;

keel::yield<std::string> open_blocking() {
    journal.push_back("open blocking");
    co_yield std::string("blocking");
    journal.push_back("close blocking");
}
using blocking_dep = keel::depends<open_blocking>;

keel::async_yield<int> failing_commit() {
    co_yield 1;
    co_await note("commit fails");
    throw std::runtime_error("commit failed");
}

keel::async_yield<int> awaits_too_early() {
    co_await note("too early");
    co_yield 1;
}

class AsyncYieldTest : public ::testing::Test {
protected:
    AsyncYieldTest() { journal.clear(); }
};

}  // namespace

TEST_F(AsyncYieldTest, TheTeardownAwaitsAfterTheHandlerAndBeforeTheAnswer) {
    keel::app app;
    app.get("/ok", [](awaited_dep r) -> keel::task<std::string> {
        journal.push_back("handler");
        co_return r->name;
    });
    client c{app};
    const auto res = c.get("/ok");
    EXPECT_EQ(res.status(), 200);
    EXPECT_EQ(journal, (std::vector<std::string>{"open awaited", "handler", "committed"}));
}

TEST_F(AsyncYieldTest, TheTeardownSeesTheHandlersFailureAndMayAwaitBeforeRethrowing) {
    keel::app app;
    app.get("/fail", [](awaited_dep) -> keel::task<int> {
        throw keel::http_error(keel::status::conflict, "no");
        co_return 1;
    });
    client c{app};
    EXPECT_EQ(c.get("/fail").status(), 409);
    EXPECT_EQ(journal, (std::vector<std::string>{"open awaited", "handler failed: no", "rolled back"}));
}

TEST_F(AsyncYieldTest, ATeardownThatFailsAfterASuccessTurnsTheAnswerIntoAnError) {
    keel::app app;
    app.get("/commit-fails", [](keel::depends<failing_commit> n) -> keel::task<int> { co_return *n; });
    client c{app};
    EXPECT_EQ(c.get("/commit-fails").status(), 500);  // never a false 200
    EXPECT_EQ(journal, (std::vector<std::string>{"commit fails"}));
}

TEST_F(AsyncYieldTest, TeardownsOfBothKindsRunNewestFirst) {
    keel::app app;
    app.get("/both",
            [](blocking_dep b, awaited_dep a) -> keel::task<std::string> { co_return *b + a->name; });
    client c{app};
    EXPECT_EQ(c.get("/both").status(), 200);
    EXPECT_EQ(journal,
              (std::vector<std::string>{"open blocking", "open awaited", "committed", "close blocking"}));
}

TEST_F(AsyncYieldTest, ASetUpThatAwaitsBeforeItsYieldIsAClearError) {
    keel::app app;
    app.get("/early", [](keel::depends<awaits_too_early> n) -> keel::task<int> { co_return *n; });
    client c{app};
    EXPECT_EQ(c.get("/early").status(), 500);
    EXPECT_TRUE(journal.empty()) << "the set-up ran its await";
}

TEST_F(AsyncYieldTest, APlainHandlerCannotDependOnAnAwaitedTeardown) {
    keel::app app;
    app.get("/plain", [](awaited_dep r) { return r->name; });
    try {
        client c{app};
        FAIL() << "the app was built";
    } catch (const std::logic_error& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("open_awaited"), std::string::npos) << what;
        EXPECT_NE(what.find("only a coroutine handler"), std::string::npos) << what;
    }
}

TEST(SyncWaitTest, RunsATaskToItsValueOrItsException) {
    EXPECT_EQ(keel::sync_wait([]() -> keel::task<int> { co_return 7; }()), 7);
    EXPECT_THROW(keel::sync_wait([]() -> keel::task<void> {
                     throw std::runtime_error("x");
                     co_return;
                 }()),
                 std::runtime_error);
}

TEST(SyncWaitTest, RefusesToBlockAThreadThatRunsALoop) {
    keel::sync_wait([]() -> keel::task<void> {
        EXPECT_THROW(keel::sync_wait([]() -> keel::task<int> { co_return 1; }()), std::logic_error);
        co_return;
    }());
}
