// No database round trip blocks an I/O thread: slow queries never delay other requests. Each
// test runs with plain handlers (the blocking session, on the worker pool) and with coroutine
// handlers (the awaited session, on the I/O thread).
#include <keel/server.hpp>

#include "../http/raw_client.hpp"

#include <gtest/gtest.h>
#include <keel/app.hpp>
#include <keel/database_error.hpp>
#include <keel/engine.hpp>
#include <keel/get_async_session.hpp>
#include <keel/get_session.hpp>
#include <keel/testing/database_template.hpp>
#include <keel/testing/http_client.hpp>
#include <keel/testing/live_server.hpp>
#include <keel/testing/postgres_environment.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>

using keel::testing::postgres_environment;
using keel_test::get_request;
using keel_test::raw_client;
using namespace std::chrono_literals;

namespace {

enum class handler_kind { plain, coroutine };

// GET `path` answers the one value `sql` selects, as text, from the request's session: a plain
// handler with keel::get_session, or a coroutine handler with keel::get_async_session.
keel::route get_scalar(keel::app& app, handler_kind kind, const std::string& path, std::string sql) {
    if (kind == handler_kind::plain) {
        return app.get(path,
                       [sql](keel::depends<keel::get_session> db) { return db->scalar<std::string>(sql); });
    }
    return app.get(path, [sql](keel::depends<keel::get_async_session> db) -> keel::task<std::string> {
        co_return co_await db->scalar<std::string>(sql);
    });
}

class ThreadsTest : public ::testing::TestWithParam<handler_kind> {
protected:
    handler_kind kind() const { return GetParam(); }
};

// Polls `sql` (a count) until it reaches `at_least`; false at the deadline.
bool count_reaches(const std::string& sql, int at_least, std::chrono::milliseconds deadline = 10s) {
    pqxx::connection watch(postgres_environment::server().url());
    const auto until = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < until) {
        if (pqxx::nontransaction(watch).exec1(sql)[0].as<int>() >= at_least) return true;
        std::this_thread::sleep_for(2ms);
    }
    return false;
}
}  // namespace

TEST_P(ThreadsTest, HealthzAnswersWhileRequestsWaitInTheDatabase) {
    keel::app app;
    app.provide<keel::engine>(keel::scope::app, [] {
        keel::engine_options o;
        o.url = postgres_environment::server().url();
        return std::make_shared<keel::engine>(o);
    });
    app.provide<keel::session_factory>(keel::scope::app,
                                       [](keel::engine& e) { return keel::session_factory{e}; });
    get_scalar(app, kind(), "/slow",
               "SELECT pg_advisory_xact_lock_shared(4343)::text");  // waits for the test's lock
    app.get("/healthz", []() -> keel::task<nlohmann::json> { co_return nlohmann::json{{"status", "ok"}}; });
    auto options = keel::testing::live_server::quiet_options();
    options.io_threads = 1;  // one I/O thread: a query on it would stall everything
    keel::testing::live_server server(app, options);

    pqxx::connection holder(postgres_environment::server().url());
    pqxx::work hold(holder);
    hold.exec("SELECT pg_advisory_xact_lock(4343)");
    std::vector<std::unique_ptr<raw_client>> sleepers;
    for (int i = 0; i < 6; ++i) {
        sleepers.push_back(std::make_unique<raw_client>(server.port()));
        sleepers.back()->send(get_request("/slow"));
    }
    // All six wait in PostgreSQL until the test lets go: a plain handler holds a worker
    // meanwhile, a coroutine handler nothing but its session.
    constexpr const char* waiting =
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4343 AND NOT granted";
    ASSERT_TRUE(count_reaches(waiting, 6)) << "the six requests never all waited in the database";
    raw_client probe(server.port());
    const auto start = std::chrono::steady_clock::now();
    probe.send(get_request("/healthz"));
    const auto res = probe.read_response(5s);
    const auto took = std::chrono::steady_clock::now() - start;
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    // The six are still waiting (the lock is held), so any answer at all shows /healthz did not
    // queue behind them; the bound is generous for TSan on two cores, and far below "never".
    EXPECT_LT(took, 1s) << "healthz waited for the database";
    EXPECT_TRUE(count_reaches(waiting, 6, 1s))
        << "the requests stopped waiting before the probe was answered";
    hold.commit();  // lets them go
    for (auto& s : sleepers) {
        const auto slow = s->read_response(10s);
        ASSERT_TRUE(slow);
        EXPECT_EQ(slow->status, 200);
    }
}

TEST_P(ThreadsTest, AnExhaustedPoolAnswers503WithRetryAfterThenServesAgain) {
    keel::app app;
    app.provide<keel::engine>(keel::scope::app, [] {
        keel::engine_options o;
        o.url = postgres_environment::server().url();
        o.pool_size = 1;
        o.max_overflow = 0;
        o.pool_timeout = 300ms;
        return std::make_shared<keel::engine>(o);
    });
    app.provide<keel::session_factory>(keel::scope::app,
                                       [](keel::engine& e) { return keel::session_factory{e}; });
    // Holds the pool's only connection until the side connection releases the advisory lock.
    get_scalar(app, kind(), "/hold", "SELECT pg_advisory_lock(4242)::text");
    get_scalar(app, kind(), "/quick", "SELECT '1'");
    keel::testing::live_server server(app);

    pqxx::connection side(postgres_environment::server().url());
    pqxx::nontransaction(side).exec("SELECT pg_advisory_lock(4242)");
    raw_client holder(server.port());
    holder.send(get_request("/hold"));
    // Until /hold waits for the lock, with the pool's one connection.
    ASSERT_TRUE(count_reaches(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242 AND NOT granted", 1))
        << "/hold never waited for the lock";
    raw_client starved(server.port());
    const auto start = std::chrono::steady_clock::now();
    starved.send(get_request("/quick"));
    const auto refused = starved.read_response(5s);
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->status, 503);
    EXPECT_EQ(refused->header("Retry-After").value_or(""), "1");
    EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);  // within pool_timeout, not hanging

    pqxx::nontransaction(side).exec("SELECT pg_advisory_unlock(4242)");
    const auto held = holder.read_response(5s);
    ASSERT_TRUE(held);
    EXPECT_EQ(held->status, 200);
    starved.send(get_request("/quick"));
    const auto served = starved.read_response(5s);
    ASSERT_TRUE(served);
    EXPECT_EQ(served->status, 200);  // full service as soon as the connection came back
}

// GET /ping runs SELECT 1 in the request's session, on a pool of `pool_size` connections to
// `url` (no overflow, 2 s pool_timeout). Returns the app's engine (it connects on first use).
std::shared_ptr<keel::engine> serve_ping(keel::app& app, handler_kind kind, std::string url,
                                         std::size_t pool_size) {
    keel::engine_options o;
    o.url = std::move(url);
    o.pool_size = pool_size;
    o.max_overflow = 0;
    o.pool_timeout = 2s;
    auto engine = std::make_shared<keel::engine>(o);
    app.provide<keel::engine>(keel::scope::app, [engine] { return engine; });
    app.provide<keel::session_factory>(keel::scope::app,
                                       [](keel::engine& e) { return keel::session_factory{e}; });
    get_scalar(app, kind, "/ping", "SELECT '1'");
    return engine;
}

TEST_P(ThreadsTest, TheServiceRecoversByItselfWhenPostgresRestarts) {
    // Its own server, even under KEEL_TEST_DATABASE_URL: restarting it disturbs no other test.
    keel::testing::postgres_server database(keel::testing::postgres_server::source::always_private);
    database.start();
    keel::app app;
    serve_ping(app, kind(), database.url(), 2);
    keel::testing::live_server server(app);
    raw_client c(server.port());
    const auto ask = [&] {
        c.send(get_request("/ping"));
        const auto res = c.read_response(10s);  // never hangs
        return res ? res->status : 0;
    };
    ASSERT_EQ(ask(), 200);
    ASSERT_EQ(ask(), 200);

    database.restart();  // every pooled connection is now broken

    int failures = 0;
    int status = 0;
    for (int i = 0; i < 10 && (status = ask()) != 200; ++i) {
        EXPECT_EQ(status, 503) << "a request during recovery got something other than 503";
        ++failures;
    }
    EXPECT_EQ(status, 200) << "the service did not recover";
    EXPECT_LE(failures, 2) << "each broken connection should fail at most one request";
    for (int i = 0; i < 5; ++i) EXPECT_EQ(ask(), 200);
}

// pg_terminate_backend on every connection of the service while clients keep asking: the
// requests that hit a dead connection fail fast with 503 (or, when the termination caught a
// COMMIT in flight, 500 "outcome unknown" without Retry-After), the dead connections are
// discarded, and the service is whole again without a restart of its own.
TEST_P(ThreadsTest, TheServiceRecoversWhenItsConnectionsAreTerminatedUnderLoad) {
    static keel::testing::database_template empty(postgres_environment::server(), "keel_terminate_template",
                                                  "SELECT 1");
    const auto database = empty.make();  // only this service connects to it: easy to find its backends
    keel::app app;
    const auto engine = serve_ping(app, kind(), database.url(), 4);
    keel::testing::live_server server(app);

    std::atomic<bool> stop{false};
    std::atomic<int> ok{0}, unavailable{0}, in_doubt{0}, other{0};
    std::vector<std::thread> clients;
    for (int i = 0; i < 4; ++i) {
        clients.emplace_back([&] {
            keel::testing::http_client http(server.port(),
                                            10s);  // a hang fails the test, it does not block it
            while (!stop) {
                try {
                    const auto res = http.get("/ping");
                    const int status = keel::to_int(res.status());
                    const bool outcome_unknown = status == 500 && !res.header("Retry-After") &&
                                                 res.body().find("outcome is unknown") != std::string::npos;
                    (status == 200 ? ok : status == 503 ? unavailable : outcome_unknown ? in_doubt : other)++;
                } catch (const std::exception&) {
                    ++other;
                }
            }
        });
    }
    const auto wait_for_ok = [&](int count) {
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (ok < count && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
        return ok >= count;
    };
    EXPECT_TRUE(wait_for_ok(100));

    pqxx::connection admin(postgres_environment::server().url());
    const auto terminated = pqxx::nontransaction(admin)
                                .exec_params1(
                                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                    "WHERE datname = $1 AND pid <> pg_backend_pid()",
                                    database.name())[0]
                                .as<int>();
    EXPECT_GE(terminated, 1);
    const auto killed_at = std::chrono::steady_clock::now();
    const int ok_before = ok;
    EXPECT_TRUE(wait_for_ok(ok_before + 200)) << "the service did not recover";
    const auto recovered_in = std::chrono::steady_clock::now() - killed_at;
    stop = true;
    for (auto& c : clients) c.join();

    EXPECT_EQ(other, 0) << "a request got something other than 200, 503 or outcome-unknown, or hung";
    EXPECT_LE(unavailable + in_doubt, 2 * 4)
        << "each dead connection should fail at most the request that found it";
    EXPECT_GE(engine->status().discarded, static_cast<std::size_t>(std::min(terminated, 1)));
    EXPECT_LT(recovered_in, 5s);
}

// A request whose deadline (the server's request_timeout, here 400 ms) runs out while its
// statement sleeps is answered 504 well before the sleep would end, and leaves nothing behind:
// no statement still running, no transaction open, nothing of its work committed. A route may
// set a longer deadline of its own.
TEST_P(ThreadsTest, ADeadlineShorterThanAStatementIs504AndLeavesNoTransactionOpen) {
    static keel::testing::database_template marks(postgres_environment::server(), "keel_deadline_template",
                                                  "CREATE TABLE marks (n int)");
    const auto database = marks.make();
    keel::app app;
    const auto engine = serve_ping(app, kind(), database.url(), 2);
    const std::string write = "INSERT INTO marks VALUES (1)";
    const std::string sleep = "SELECT pg_sleep(3)::text";
    if (kind() == handler_kind::plain) {
        app.get("/write-then-sleep", [=](keel::depends<keel::get_session> db) {
            db->exec(write);
            return db->scalar<std::string>(sleep);
        });
    } else {
        app.get("/write-then-sleep",
                [=](keel::depends<keel::get_async_session> db) -> keel::task<std::string> {
                    co_await db->exec(write);
                    co_return co_await db->scalar<std::string>(sleep);
                });
    }
    get_scalar(app, kind(), "/longer", "SELECT pg_sleep(0.6)::text").timeout(10s);
    auto options = keel::testing::live_server::quiet_options();
    options.request_timeout = 400ms;
    keel::testing::live_server server(app, options);

    raw_client c(server.port());
    const auto start = std::chrono::steady_clock::now();
    c.send(get_request("/write-then-sleep"));
    const auto res = c.read_response(10s);
    const auto took = std::chrono::steady_clock::now() - start;
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 504);
    EXPECT_FALSE(res->header("Retry-After"));
    EXPECT_LT(took, 2500ms) << "the deadline did not cut the 3 s statement short";
    EXPECT_EQ(app.error_counters().deadline_exceeded, 1u);

    pqxx::connection watch(database.url());
    const auto left =
        pqxx::nontransaction(watch)
            .exec_params1(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() "
                "AND (state LIKE 'idle in transaction%' OR query LIKE '%pg_sleep(3)%' AND state = 'active')",
                database.name())[0]
            .as<int>();
    EXPECT_EQ(left, 0) << "a transaction or the statement outlived the request";
    EXPECT_EQ(pqxx::nontransaction(watch).exec1("SELECT count(*) FROM marks")[0].as<int>(), 0);
    EXPECT_EQ(engine->status().checked_out, 0u);

    c.send(get_request("/longer"));  // its own 10 s deadline outlasts the server's 400 ms
    const auto longer = c.read_response(10s);
    ASSERT_TRUE(longer);
    EXPECT_EQ(longer->status, 200);
}

// A statement deferred to the commit runs in the COMMIT's round trip under the request's
// deadline like any statement: cut short, it is a 504 (not a 500), and nothing is committed.
TEST_P(ThreadsTest, AStatementDeferredToTheCommitIsBoundByTheDeadline) {
    static keel::testing::database_template marks(postgres_environment::server(), "keel_deferred_deadline",
                                                  "CREATE TABLE marks (n int)");
    const auto database = marks.make();
    keel::app app;
    const auto engine = serve_ping(app, kind(), database.url(), 2);
    const std::string slow_write = "INSERT INTO marks SELECT 1 FROM pg_sleep(3)";
    if (kind() == handler_kind::plain) {
        app.get("/deferred", [=](keel::depends<keel::get_session> db) {
            db->exec_deferred(slow_write);  // sent with the teardown's COMMIT
            return std::string("sent later");
        });
    } else {
        app.get("/deferred", [=](keel::depends<keel::get_async_session> db) -> keel::task<std::string> {
            db->exec_deferred(slow_write);
            co_return "sent later";
        });
    }
    auto options = keel::testing::live_server::quiet_options();
    options.request_timeout = 400ms;
    keel::testing::live_server server(app, options);

    raw_client c(server.port());
    const auto start = std::chrono::steady_clock::now();
    c.send(get_request("/deferred"));
    const auto res = c.read_response(10s);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 504) << res->body;
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2500ms)
        << "the deadline did not cut the statement short";
    pqxx::connection watch(database.url());
    EXPECT_EQ(pqxx::nontransaction(watch).exec1("SELECT count(*) FROM marks")[0].as<int>(), 0);
    EXPECT_EQ(engine->status().checked_out, 0u);
}

// A unit rolled back after a failure, then a statement once the deadline has come nearer:
// the lower statement_timeout goes after the ROLLBACK TO (before it, in the aborted
// transaction, it would fail), and the request still succeeds.
TEST_P(ThreadsTest, TheDeadlinesLowerTimeoutFollowsTheRollbackOfAFailedUnit) {
    keel::app app;
    const auto engine = serve_ping(app, kind(), postgres_environment::server().url(), 1);
    // Fails after 300 ms in PostgreSQL: long enough for the deadline's timeout to be lowered next.
    const std::string slow_failure = "SELECT 1 / ((pg_sleep(0.3)::text <> '')::int)";
    if (kind() == handler_kind::plain) {
        app.get("/recovers", [=](keel::depends<keel::get_session> db) {
            db->exec("SELECT 1");
            {
                auto unit = db->begin();
                EXPECT_THROW(db->exec(slow_failure), keel::database_error);
            }
            return db->scalar<std::string>("SELECT 'recovered'");
        });
    } else {
        app.get("/recovers", [=](keel::depends<keel::get_async_session> db) -> keel::task<std::string> {
            co_await db->exec("SELECT 1");
            {
                auto unit = co_await db->begin();
                bool failed = false;
                try {
                    co_await db->exec(slow_failure);
                } catch (const keel::database_error&) {
                    failed = true;
                }
                EXPECT_TRUE(failed);
            }
            co_return co_await db->scalar<std::string>("SELECT 'recovered'");
        });
    }
    auto options = keel::testing::live_server::quiet_options();
    options.request_timeout = 2s;
    keel::testing::live_server server(app, options);
    raw_client c(server.port());
    c.send(get_request("/recovers"));
    const auto res = c.read_response(10s);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200) << res->body;
    EXPECT_EQ(engine->status().checked_out, 0u);
}

// The wait for a pooled connection ends with the request's deadline, not pool_timeout: 503
// with Retry-After, since nothing of the request ran.
TEST_P(ThreadsTest, ADeadlineEndsTheWaitForAConnectionWith503) {
    keel::app app;
    app.provide<keel::engine>(keel::scope::app, [] {
        keel::engine_options o;
        o.url = postgres_environment::server().url();
        o.pool_size = 1;
        o.max_overflow = 0;
        o.pool_timeout = 20s;
        return std::make_shared<keel::engine>(o);
    });
    app.provide<keel::session_factory>(keel::scope::app,
                                       [](keel::engine& e) { return keel::session_factory{e}; });
    get_scalar(app, kind(), "/hold", "SELECT pg_advisory_lock(4244)::text");
    get_scalar(app, kind(), "/quick", "SELECT '1'").timeout(300ms);
    keel::testing::live_server server(app);

    pqxx::connection side(postgres_environment::server().url());
    pqxx::nontransaction(side).exec("SELECT pg_advisory_lock(4244)");
    raw_client holder(server.port());
    holder.send(get_request("/hold"));
    ASSERT_TRUE(count_reaches(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4244 AND NOT granted", 1));
    raw_client starved(server.port());
    const auto start = std::chrono::steady_clock::now();
    starved.send(get_request("/quick"));
    const auto refused = starved.read_response(10s);
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->status, 503);
    EXPECT_EQ(refused->header("Retry-After").value_or(""), "1");
    EXPECT_LT(std::chrono::steady_clock::now() - start, 3s) << "it waited for pool_timeout, not the deadline";
    pqxx::nontransaction(side).exec("SELECT pg_advisory_unlock(4244)");
    const auto held = holder.read_response(10s);
    ASSERT_TRUE(held);
    EXPECT_EQ(held->status, 200);
}

// A client that hangs up while its request sleeps in PostgreSQL cancels the statement: no
// backend goes on running it, no transaction is left open, and the pool has its connection
// back long before the sleep would have ended.
TEST_P(ThreadsTest, AClientThatHangsUpMidStatementLeavesNoBackendRunningIt) {
    static keel::testing::database_template empty(postgres_environment::server(), "keel_hangup_template",
                                                  "SELECT 1");
    const auto database = empty.make();
    keel::app app;
    const auto engine = serve_ping(app, kind(), database.url(), 2);
    get_scalar(app, kind(), "/sleep", "SELECT pg_sleep(20)::text");
    keel::testing::live_server server(app);

    const std::string running = "SELECT count(*) FROM pg_stat_activity WHERE datname = '" + database.name() +
                                "' AND wait_event = 'PgSleep' AND query LIKE 'SELECT pg_sleep(20)%'";
    auto client = std::make_unique<raw_client>(server.port());
    client->send(get_request("/sleep"));
    ASSERT_TRUE(count_reaches(running, 1)) << "the statement never started";
    const auto hung_up_at = std::chrono::steady_clock::now();
    client.reset();  // the client closes its socket

    pqxx::connection watch(postgres_environment::server().url());
    const auto count = [&](const std::string& sql) {
        return pqxx::nontransaction(watch).exec1(sql)[0].as<int>();
    };
    const auto until = hung_up_at + 10s;  // far below the 20 s sleep; the sweeper looks twice a second
    while (count(running) > 0 && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(10ms);
    EXPECT_EQ(count(running), 0) << "the statement outlived its client";
    EXPECT_LT(std::chrono::steady_clock::now() - hung_up_at, 10s);
    const auto returned = std::chrono::steady_clock::now() + 5s;
    while (engine->status().checked_out > 0 && std::chrono::steady_clock::now() < returned)
        std::this_thread::sleep_for(10ms);
    EXPECT_EQ(engine->status().checked_out, 0u) << "the connection did not come back";
    EXPECT_EQ(count("SELECT count(*) FROM pg_stat_activity WHERE datname = '" + database.name() +
                    "' AND state LIKE 'idle in transaction%'"),
              0);
    EXPECT_EQ(engine->status().discarded, 0u);  // cancelled, not lost

    raw_client next(server.port());  // and the service goes on
    next.send(get_request("/ping"));
    const auto res = next.read_response(10s);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
}

INSTANTIATE_TEST_SUITE_P(EveryHandler, ThreadsTest,
                         ::testing::Values(handler_kind::plain, handler_kind::coroutine),
                         [](const auto& param_info) {
                             return param_info.param == handler_kind::plain ? "Plain" : "Coroutine";
                         });
