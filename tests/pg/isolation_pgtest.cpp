// The testing kit's two isolation modes: the isolated (savepoint) session factory and a fresh
// database per test made from a template.
#include <keel/testing/database_template.hpp>
#include <keel/testing/isolated_database.hpp>

#include <gtest/gtest.h>
#include <keel/app.hpp>
#include <keel/get_session.hpp>
#include <keel/pool_timeout.hpp>
#include <keel/testing/client.hpp>
#include <keel/testing/postgres_environment.hpp>
#include <pqxx/pqxx>

#include <chrono>
#include <future>
#include <optional>
#include <string>

using keel::testing::postgres_environment;
using namespace std::chrono_literals;

namespace {

constexpr const char* notes_schema =
    "CREATE TABLE IF NOT EXISTS notes (id bigserial PRIMARY KEY, text text NOT NULL UNIQUE)";

// One engine for the binary's isolated tests, as a service's test suite would keep one.
keel::engine& shared_engine() {
    static keel::engine e = [] {
        keel::engine_options o;
        o.url = postgres_environment::server().url();
        o.pool_size = 2;
        o.pool_timeout = 2s;
        pqxx::connection c(o.url);
        pqxx::nontransaction(c).exec(notes_schema);
        return keel::engine(o);
    }();
    return e;
}

long committed_notes() {  // what every other connection sees
    pqxx::connection c(postgres_environment::server().url());
    return pqxx::nontransaction(c).exec1("SELECT count(*) FROM notes")[0].as<long>();
}

// The service under test, declared as in production.
struct notes_service {
    notes_service() {
        app.provide<keel::session_factory>(keel::scope::app,
                                           [] { return keel::session_factory{shared_engine()}; });
        add_routes();
    }
    void add_routes();
    keel::app app;
};

void notes_service::add_routes() {
    app.post("/notes/{text}",
             [](keel::path<std::string> text, keel::depends<keel::get_session> db) {
                 return db->scalar<std::int64_t>("INSERT INTO notes (text) VALUES ($1) RETURNING id", *text);
             })
        .status(keel::status::created);
    app.post("/notes/{text}/fail",
             [](keel::path<std::string> text, keel::depends<keel::get_session> db) -> int {
                 db->exec("INSERT INTO notes (text) VALUES ($1)", *text);
                 throw std::runtime_error("the handler failed after writing");
             });
    app.get("/notes/count", [](keel::depends<keel::get_session> db) {
        return db->scalar<std::int64_t>("SELECT count(*) FROM notes");
    });
    // A route with a deadline of its own: its session's statements run under a statement_timeout.
    app.get("/notes/count/quick",
            [](keel::depends<keel::get_session> db) {
                return db->scalar<std::int64_t>("SELECT count(*) FROM notes");
            })
        .timeout(5s);
}

class IsolatedDatabaseTest : public ::testing::Test {
protected:
    notes_service service_;
    keel::testing::isolated_database db_{shared_engine()};
    keel::testing::client client_{service_.app};
    // The seed's pattern: get_session, overridden onto the test's session factory.
    keel::dependency_overrides::guard restore_ =
        client_.override(keel::get_session, [this] { return keel::get_session(db_.sessions()); });
};

TEST_F(IsolatedDatabaseTest, CommittedWorkIsSeenInTheTestButNotOutsideIt) {
    EXPECT_EQ(client_.post("/notes/first", nullptr).status(), 201);
    EXPECT_EQ(client_.post("/notes/second", nullptr).status(), 201);
    EXPECT_EQ(client_.get("/notes/count").json(), 2);
    EXPECT_EQ(db_.open().scalar<long>("SELECT count(*) FROM notes"), 2);
    EXPECT_EQ(committed_notes(), 0);  // still the test's own
}

// The statement_timeout a request's deadline set inside the test's transaction ends with that
// request's session, as it would with a real COMMIT: the test's later statements run without it.
TEST_F(IsolatedDatabaseTest, ADeadlinesStatementTimeoutEndsWithItsSession) {
    EXPECT_EQ(client_.get("/notes/count/quick").status(), 200);
    EXPECT_EQ(db_.open().scalar<std::string>("SHOW statement_timeout"), "0");
}

// What an earlier test wrote is gone when its isolated database ends: shown here without
// relying on the order GoogleTest runs tests in (a filter or a shuffle would break that).
TEST_F(IsolatedDatabaseTest, WhatAnEarlierTestWroteIsGoneWhenItsDatabaseEnds) {
    {
        keel::testing::isolated_database earlier(shared_engine());
        auto s = earlier.sessions().open();
        s.exec("INSERT INTO notes (text) VALUES ('first')");
        s.commit();
        EXPECT_EQ(earlier.open().scalar<std::int64_t>("SELECT count(*) FROM notes"), 1);
    }  // ends as a test's does
    EXPECT_EQ(client_.get("/notes/count").json(), 0);
    EXPECT_EQ(client_.post("/notes/first", nullptr).status(), 201);  // no unique clash with it either
}

TEST_F(IsolatedDatabaseTest, RollsBackOnError) {
    EXPECT_EQ(client_.post("/notes/kept", nullptr).status(), 201);
    EXPECT_EQ(client_.post("/notes/lost/fail", nullptr).status(), 500);
    EXPECT_EQ(client_.get("/notes/count").json(), 1);  // the handler's rollback undid only its own write
    EXPECT_FALSE(db_.open().first<std::int64_t>("SELECT id FROM notes WHERE text = 'lost'"));
}

TEST_F(IsolatedDatabaseTest, ACodeLevelRollbackUndoesOnlyThatSession) {
    auto s = db_.open();
    s.exec("INSERT INTO notes (text) VALUES ('a')");
    s.commit();
    s.exec("INSERT INTO notes (text) VALUES ('b')");
    {
        auto inner = s.begin();  // a savepoint inside the session's own savepoint
        s.exec("INSERT INTO notes (text) VALUES ('c')");
    }
    s.rollback();
    EXPECT_EQ(db_.open().all<std::string>("SELECT text FROM notes ORDER BY text"),
              std::vector<std::string>{"a"});
}

TEST_F(IsolatedDatabaseTest, AFailedStatementLeavesTheTestsTransactionUsable) {
    auto s = db_.open();
    s.exec("INSERT INTO notes (text) VALUES ('a')");
    s.commit();
    EXPECT_THROW(s.exec("INSERT INTO notes (text) VALUES ('a')"), keel::database_error);  // unique violation
    s.rollback();
    EXPECT_EQ(client_.post("/notes/b", nullptr).status(), 201);
    EXPECT_EQ(client_.get("/notes/count").json(), 2);
}

TEST_F(IsolatedDatabaseTest, SessionsTakeTurnsOnTheOneConnection) {
    auto held = db_.open();
    held.exec("SELECT 1");
    auto second = db_.open();
    EXPECT_THROW(second.exec("SELECT 1"), std::logic_error);  // same thread: it would wait for itself
    auto other = std::async(std::launch::async, [this] { return db_.open().scalar<int>("SELECT 2"); });
    EXPECT_EQ(other.wait_for(50ms), std::future_status::timeout);  // waits for the connection
    held.commit();
    EXPECT_EQ(other.get(), 2);
}

TEST(IsolatedDatabase, EverythingIsRolledBackWhenItEnds) {
    {
        keel::testing::isolated_database db(shared_engine());
        auto s = db.open();
        s.exec("INSERT INTO notes (text) VALUES ('x')");
        s.commit();
        EXPECT_EQ(db.open().scalar<long>("SELECT count(*) FROM notes"), 1);
    }
    EXPECT_EQ(committed_notes(), 0);
    EXPECT_EQ(shared_engine().status().checked_out, 0u);  // the connection went back
}

// --- fresh database per test, from a template ---

keel::testing::database_template& notes_template() {
    static keel::testing::database_template t(postgres_environment::server(), "keel_notes_template",
                                              notes_schema);
    return t;
}

TEST(DatabaseTemplate, EachFreshDatabaseHasTheSchemaAndRealCommits) {
    auto db = notes_template().make();
    keel::engine_options o;
    o.url = db.url();
    keel::engine e(o);
    keel::session_factory sessions(e);
    auto writer = sessions.open();
    writer.exec("INSERT INTO notes (text) VALUES ('committed')");
    writer.commit();
    pqxx::connection other(db.url());  // a real commit: another connection sees it
    EXPECT_EQ(pqxx::nontransaction(other).exec1("SELECT count(*) FROM notes")[0].as<long>(), 1);

    auto next = notes_template().make();
    pqxx::connection c(next.url());
    EXPECT_EQ(pqxx::nontransaction(c).exec1("SELECT count(*) FROM notes")[0].as<long>(), 0);
}

TEST(DatabaseTemplate, TheDatabaseIsDroppedEvenWithConnectionsOpen) {
    std::string name;
    pqxx::connection admin(postgres_environment::server().url());
    std::optional<keel::engine> e;  // outlives the database: its idle connection is still open at the drop
    {
        auto db = notes_template().make();
        name = db.name();
        keel::engine_options o;
        o.url = db.url();
        e.emplace(o);
        keel::session_factory(*e).open().exec("SELECT 1");
        ASSERT_EQ(e->status().idle, 1u);
        pqxx::nontransaction probe(admin);
        EXPECT_EQ(
            probe.exec_params1("SELECT count(*) FROM pg_database WHERE datname = $1", name)[0].as<long>(), 1);
    }
    pqxx::nontransaction probe(admin);
    EXPECT_EQ(probe.exec_params1("SELECT count(*) FROM pg_database WHERE datname = $1", name)[0].as<long>(),
              0);
}

}  // namespace

// A statement that fails to parse, in a session of the isolated database, is that session's
// failure only: the test's outer transaction (and what the test wrote before) survives it.
TEST_F(IsolatedDatabaseTest, AStatementThatFailsToParseDoesNotPoisonTheOuterTransaction) {
    EXPECT_EQ(client_.post("/notes/kept", nullptr).status(), 201);
    {
        auto s = db_.sessions().open();
        EXPECT_THROW(s.exec("SELEKT nonsense FROM nowhere"), keel::database_error);
    }
    auto s = db_.sessions().open();
    EXPECT_EQ(s.scalar<std::int64_t>("SELECT count(*) FROM notes WHERE text = 'kept'"), 1);
    s.commit();
    EXPECT_EQ(client_.get("/notes/count").json(), 1);
}
