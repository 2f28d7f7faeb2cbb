// keel::session and get_session against a real PostgreSQL.
#include <keel/http_error.hpp>
#include <keel/session.hpp>

#include <gtest/gtest.h>
#include <keel/app.hpp>
#include <keel/database_error.hpp>
#include <keel/get_session.hpp>
#include <keel/model.hpp>
#include <keel/testing/client.hpp>
#include <keel/testing/postgres_environment.hpp>
#include <pqxx/pqxx>

#include <atomic>
#include <keel/retry.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using keel::testing::postgres_environment;
using namespace std::chrono_literals;

namespace {

struct person {
    std::int64_t id;
    std::string email;
    std::optional<std::string> nickname;
    KEEL_MODEL(person, id, email, nickname)
};

// Each test works in a table of its own, created fresh on the shared server.
class SessionTest : public ::testing::Test {
protected:
    SessionTest() {
        options_.url = postgres_environment::server().url();
        options_.pool_size = 3;
        options_.max_overflow = 0;
        options_.pool_timeout = 2s;
        engine_ = std::make_unique<keel::engine>(options_);
        table_ = std::string("people_") + ::testing::UnitTest::GetInstance()->current_test_info()->name();
        admin("DROP TABLE IF EXISTS " + table_);
        admin("CREATE TABLE " + table_ +
              " (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, nickname text)");
    }

    void admin(const std::string& sql) {
        pqxx::connection c(postgres_environment::server().url());
        pqxx::nontransaction(c).exec(sql);
    }
    long count() {
        pqxx::connection c(postgres_environment::server().url());
        return pqxx::nontransaction(c).exec1("SELECT count(*) FROM " + table_)[0].as<long>();
    }
    std::string insert_sql() const {
        return "INSERT INTO " + table_ + " (email, nickname) VALUES ($1, $2) RETURNING id";
    }

    keel::engine_options options_;
    std::unique_ptr<keel::engine> engine_;
    std::string table_;
};

}  // namespace

TEST_F(SessionTest, CommitMakesTheWorkVisible) {
    keel::session s(*engine_);
    s.exec(insert_sql(), "a@x", nullptr);
    EXPECT_EQ(count(), 0);  // not yet committed: another connection cannot see it
    s.commit();
    EXPECT_EQ(count(), 1);
}

TEST_F(SessionTest, RollbackAndDestructionDiscardTheWork) {
    {
        keel::session s(*engine_);
        s.exec(insert_sql(), "a@x", nullptr);
        s.rollback();
        s.exec(insert_sql(), "b@x", nullptr);
    }  // destroyed with an open transaction
    EXPECT_EQ(count(), 0);
    EXPECT_EQ(engine_->status().checked_out, 0u);  // and the connection went back
}

TEST_F(SessionTest, NoConnectionIsTakenUntilTheFirstStatement) {
    keel::session s(*engine_);
    EXPECT_FALSE(s.in_transaction());
    EXPECT_EQ(engine_->status().created, 0u);
    s.scalar<int>("SELECT 1");
    EXPECT_TRUE(s.in_transaction());
    EXPECT_EQ(engine_->status().checked_out, 1u);
    s.commit();
    EXPECT_EQ(engine_->status().checked_out, 0u);
}

TEST_F(SessionTest, AFailedInnerUnitLeavesTheOuterWorkUsable) {
    keel::session s(*engine_);
    auto outer = s.begin();
    s.exec(insert_sql(), "kept@x", nullptr);
    try {
        s.transaction([&] {
            s.exec(insert_sql(), "dropped@x", nullptr);
            s.exec(insert_sql(), "kept@x", nullptr);  // unique violation inside the savepoint
        });
        FAIL() << "the duplicate was accepted";
    } catch (const keel::unique_violation& e) {
        EXPECT_EQ(e.sqlstate(), "23505");
    }
    s.exec(insert_sql(), "after@x", nullptr);  // the outer transaction is not poisoned
    outer.commit();
    EXPECT_EQ(count(), 2);
}

TEST_F(SessionTest, ABeginBlockThatThrowsLeavesNothing) {
    keel::session s(*engine_);
    try {
        auto unit = s.begin();
        s.exec(insert_sql(), "ghost@x", nullptr);
        throw std::runtime_error("changed my mind");
    } catch (const std::runtime_error&) {
    }
    EXPECT_EQ(s.scalar<long>("SELECT count(*) FROM " + table_), 0);
    EXPECT_EQ(count(), 0);
}

TEST_F(SessionTest, RowsMapToModelsByColumnName) {
    keel::session s(*engine_);
    const auto id = s.scalar<std::int64_t>(insert_sql(), "m@x", "em");
    s.exec(insert_sql(), "n@x", nullptr);
    const auto one = s.one<person>("SELECT nickname, email, id FROM " + table_ + " WHERE id = $1", id);
    EXPECT_EQ(one.email, "m@x");
    EXPECT_EQ(one.nickname, "em");
    const auto all = s.all<person>("SELECT * FROM " + table_ + " ORDER BY id");
    ASSERT_EQ(all.size(), 2u);
    EXPECT_FALSE(all[1].nickname.has_value());
    EXPECT_FALSE(s.first<person>("SELECT * FROM " + table_ + " WHERE id = $1", -1).has_value());
    EXPECT_THROW(s.one<person>("SELECT * FROM " + table_), std::logic_error);     // two rows
    EXPECT_THROW(s.scalar<int>("SELECT NULL::int"), std::runtime_error);          // NULL into int
    EXPECT_THROW(s.one<person>("SELECT 1 AS id, 'x' AS email"), std::exception);  // missing column
}

TEST_F(SessionTest, RepeatedStatementsArePreparedOnce) {
    keel::session s(*engine_);
    for (int i = 0; i < 5; ++i) s.scalar<int>("SELECT $1::int + 1", i);
    EXPECT_EQ(
        s.scalar<long>("SELECT count(*) FROM pg_prepared_statements WHERE statement = 'SELECT $1::int + 1'"),
        1);
}

TEST_F(SessionTest, StatementTimeoutCancels) {
    keel::session s(*engine_, {.statement_timeout = 50ms});
    EXPECT_THROW(s.exec("SELECT pg_sleep(2)"), keel::query_canceled);
}

TEST_F(SessionTest, AClosedSessionRefusesWork) {
    keel::session s(*engine_);
    s.close();
    EXPECT_THROW(s.exec("SELECT 1"), std::logic_error);
}

TEST_F(SessionTest, ALostConnectionIsReportedAndNotReused) {
    keel::session s(*engine_);
    const auto pid = s.scalar<int>("SELECT pg_backend_pid()");
    admin("SELECT pg_terminate_backend(" + std::to_string(pid) + ")");
    EXPECT_THROW(s.exec("SELECT 1"), keel::connection_lost);
    s.rollback();
    keel::session again(*engine_);
    EXPECT_NE(again.scalar<int>("SELECT pg_backend_pid()"), pid);
}

// The request's session through the app: committed on success, rolled back on failure, and a
// failing commit is an error response, never a 2xx.
class GetSessionTest : public SessionTest {
protected:
    GetSessionTest() {
        app_.provide<keel::engine>(keel::scope::app,
                                   [this] { return std::make_shared<keel::engine>(options_); });
        app_.provide<keel::session_factory>(keel::scope::app,
                                            [](keel::engine& e) { return keel::session_factory{e}; });
        const std::string sql = insert_sql();
        app_.post("/people/{email}",
                  [sql](keel::path<std::string> email, keel::depends<keel::get_session> db) {
                      return db->scalar<std::int64_t>(sql, *email, nullptr);
                  })
            .status(keel::status::created);
        app_.post("/people/{email}/fail",
                  [sql](keel::path<std::string> email, keel::depends<keel::get_session> db) -> int {
                      db->exec(sql, *email, nullptr);
                      throw keel::http_error(keel::status::conflict, "no");
                  });
    }
    keel::app app_;
};

TEST_F(GetSessionTest, CommitsOnSuccessAndRollsBackOnFailure) {
    keel::testing::client c{app_};
    EXPECT_EQ(c.post("/people/a@x", nullptr).status(), 201);
    EXPECT_EQ(c.post("/people/b@x/fail", nullptr).status(), 409);
    EXPECT_EQ(count(), 1);
}

TEST_F(GetSessionTest, AFailingCommitIsAnErrorNotASuccess) {
    // A deferred constraint is only checked at COMMIT.
    admin("ALTER TABLE " + table_ +
          " ADD CONSTRAINT nick_unique UNIQUE (nickname) DEFERRABLE INITIALLY DEFERRED");
    admin("INSERT INTO " + table_ + " (email, nickname) VALUES ('first@x', 'dup')");
    app_.build();
    keel::testing::client c{app_};
    auto restore = c.override(keel::get_session, [](keel::session_factory& f) -> keel::yield<keel::session> {
        keel::session s = f.open();
        s.exec("SET CONSTRAINTS ALL DEFERRED");
        try {
            co_yield s;
            s.exec(
                "UPDATE people_AFailingCommitIsAnErrorNotASuccess SET nickname = 'dup' WHERE email <> "
                "'first@x'");
            s.commit();
        } catch (...) {
            s.rollback();
            throw;
        }
    });
    const auto res = c.post("/people/second@x", nullptr);
    EXPECT_EQ(res.status(), 500) << res;
    EXPECT_EQ(count(), 1);  // the insert did not survive the failed commit
}

TEST_F(SessionTest, BackgroundWorkOpensItsOwnSessionFromTheFactory) {
    keel::session_factory sessions(*engine_);
    std::thread worker([&] {
        keel::session db = sessions.open();  // never a request's session: it ends with its request
        db.exec(insert_sql(), "from-a-job@x", nullptr);
        db.commit();
    });
    worker.join();
    EXPECT_EQ(count(), 1);
}

// Many threads, each with its own sessions from one factory (the pool smaller than the
// threads): work stays apart, row locks serialise what must be, nothing is lost or made up.
// Run under TSan by scripts/test.
TEST_F(SessionTest, ConcurrentSessionsOnManyThreadsKeepTheirWorkApart) {
    const std::string accounts = table_ + "_accounts";
    admin("DROP TABLE IF EXISTS " + accounts);
    admin("CREATE TABLE " + accounts + " (id int PRIMARY KEY, balance bigint NOT NULL CHECK (balance >= 0))");
    admin("INSERT INTO " + accounts + " SELECT g, 100 FROM generate_series(1, 5) g");
    const std::string lock_sql =
        "SELECT balance FROM " + accounts + " WHERE id IN ($1, $2) ORDER BY id FOR UPDATE";
    const std::string move_sql = "UPDATE " + accounts +
                                 " SET balance = balance + CASE WHEN id = $1 THEN -$3::bigint ELSE "
                                 "$3::bigint END WHERE id IN ($1, $2)";

    keel::session_factory sessions(*engine_);
    constexpr int threads = 8, per_thread = 40;
    std::atomic<int> moved{0}, written{0}, refused{0};
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
            for (int i = 0; i < per_thread; ++i) {
                const int from = (t + i) % 5 + 1, to = (t + 2 * i + 1) % 5 + 1;
                try {
                    keel::retry_on_conflict([&] {
                        auto db = sessions.open();
                        db.exec(insert_sql(), "t" + std::to_string(t) + "-" + std::to_string(i) + "@x",
                                nullptr);
                        if (from != to) {
                            db.exec(lock_sql, from, to);
                            db.exec(move_sql, from, to, 7);
                        }
                        db.commit();
                    });
                    ++written;
                    if (from != to) ++moved;
                } catch (const keel::check_violation&) {
                    ++refused;  // the account would go below 0: nothing of this unit stays, its row included
                }
            }
        });
    }
    for (auto& w : workers) w.join();
    pqxx::connection c(postgres_environment::server().url());
    pqxx::nontransaction check(c);
    EXPECT_EQ(check.exec1("SELECT sum(balance) FROM " + accounts)[0].as<long>(), 500);
    EXPECT_EQ(check.exec1("SELECT count(*) FROM " + table_)[0].as<long>(), written.load());
    EXPECT_GT(moved.load(), 0);
    EXPECT_EQ(engine_->status().checked_out, 0u);
}

// A statement error the code caught still aborted the transaction: committing it must fail
// (PostgreSQL itself answers such a COMMIT with a quiet ROLLBACK), and the connection must come
// back clean for the next session.
TEST_F(SessionTest, CommittingATransactionAnErrorAbortedFailsAndTheConnectionComesBackClean) {
    options_.pool_size = 1;
    engine_ = std::make_unique<keel::engine>(options_);
    {
        keel::session s(*engine_);
        s.exec(insert_sql(), "kept-out@x", nullptr);
        EXPECT_THROW(s.exec("SELECT 1 / 0"), keel::database_error);  // caught, as careless code might
        try {
            s.commit();
            ADD_FAILURE() << "commit reported success";
        } catch (const keel::database_error& e) {
            EXPECT_EQ(e.sqlstate(), "25P02");
        }
    }
    EXPECT_EQ(count(), 0);
    {
        keel::session s(*engine_);
        EXPECT_THROW(s.scalar<int>("SELECT 1 / 0"), keel::database_error);  // the very first statement fails
    }
    keel::session next(*engine_);  // the same (only) connection: no transaction left open on it
    EXPECT_EQ(next.scalar<int>("SELECT 2"), 2);
    next.commit();
    EXPECT_EQ(engine_->status().created, 1u);
}

TEST_F(SessionTest, AMovedFromSessionIsSafeToDestroyAndToTearDown) {
    keel::session first(*engine_);
    first.exec(insert_sql(), "moved@x", nullptr);
    keel::session second(std::move(first));
    first.commit();    // NOLINT(bugprone-use-after-move): what a teardown holding the old one does
    first.rollback();  // NOLINT(bugprone-use-after-move)
    first.close();     // NOLINT(bugprone-use-after-move)
    EXPECT_FALSE(first.in_transaction());  // NOLINT(bugprone-use-after-move)
    try {
        first.exec("SELECT 1");  // NOLINT(bugprone-use-after-move)
        FAIL() << "a moved-from session ran a statement";
    } catch (const std::logic_error& e) {
        EXPECT_NE(std::string(e.what()).find("moved from"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(second.in_transaction());
    second.commit();
    EXPECT_EQ(count(), 1);
}

TEST_F(SessionTest, ASessionUsedAfterCloseIsAClearError) {
    keel::session s(*engine_);
    s.exec(insert_sql(), "closed@x", nullptr);
    s.close();
    EXPECT_EQ(count(), 0) << "close rolls back";
    try {
        s.exec("SELECT 1");
        FAIL() << "a closed session ran a statement";
    } catch (const std::logic_error& e) {
        EXPECT_NE(std::string(e.what()).find("closed"), std::string::npos) << e.what();
    }
    EXPECT_THROW(s.commit(), std::logic_error);
    EXPECT_THROW((void)s.begin(), std::logic_error);
}

// A handler that takes the request's session away (moves it out of get_session's value) leaves
// get_session a moved-from session to commit: harmless, and the moved session is the handler's.
TEST_F(SessionTest, GetSessionTearsDownASessionTheHandlerMovedAway) {
    keel::app app;
    app.provide<keel::session_factory>(keel::scope::app, [this] { return keel::session_factory{*engine_}; });
    app.post("/take", [this](keel::depends<keel::get_session> db) {
        keel::session mine(std::move(*db));
        mine.exec(insert_sql(), "taken@x", nullptr);
        mine.commit();
        return "taken";
    });
    keel::testing::client client(app);
    EXPECT_EQ(client.post("/take", nullptr).status(), keel::status::ok);
    EXPECT_EQ(count(), 1);
}
