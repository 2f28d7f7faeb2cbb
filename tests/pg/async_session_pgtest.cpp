// keel::async_session against a real PostgreSQL: the session behaviours every kind of session
// must have, run for the blocking keel::session and the awaited one alike, then what only the
// awaited one does (waiting without a thread).
#include <keel/async_session.hpp>

#include "../support/backend_watch.hpp"
#include "../support/captured_log.hpp"
#include "../support/concurrently.hpp"
#include "../support/cutting_proxy.hpp"

#include <gtest/gtest.h>
#include <keel/app.hpp>
#include <keel/database_error.hpp>
#include <keel/get_async_session.hpp>
#include <keel/model.hpp>
#include <keel/offload.hpp>
#include <keel/pool_timeout.hpp>
#include <keel/session.hpp>
#include <keel/sync_wait.hpp>
#include <keel/testing/client.hpp>
#include <keel/testing/postgres_environment.hpp>
#include <pqxx/pqxx>

#include <algorithm>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using keel::testing::postgres_environment;
using namespace std::chrono_literals;

namespace {

struct member {
    std::int64_t id;
    std::string email;
    std::optional<std::string> nickname;
    KEEL_MODEL(member, id, email, nickname)
};

// The blocking session, driven from a coroutine through keel::offload (inline under sync_wait).
struct blocking_kind {
    using session_type = keel::session;
    using unit_type = keel::session::unit;

    template <class... A>
    static keel::task<keel::result> exec(session_type& s, std::string_view sql, const A&... a) {
        co_return co_await keel::offload([&] { return s.exec(sql, a...); });
    }
    template <class T, class... A>
    static keel::task<T> scalar(session_type& s, std::string_view sql, const A&... a) {
        co_return co_await keel::offload([&] { return s.scalar<T>(sql, a...); });
    }
    template <class T, class... A>
    static keel::task<T> one(session_type& s, std::string_view sql, const A&... a) {
        co_return co_await keel::offload([&] { return s.one<T>(sql, a...); });
    }
    template <class T, class... A>
    static keel::task<std::optional<T>> first(session_type& s, std::string_view sql, const A&... a) {
        co_return co_await keel::offload([&] { return s.first<T>(sql, a...); });
    }
    template <class T, class... A>
    static keel::task<std::vector<T>> all(session_type& s, std::string_view sql, const A&... a) {
        co_return co_await keel::offload([&] { return s.all<T>(sql, a...); });
    }
    static keel::task<void> commit(session_type& s) {
        co_await keel::offload([&] { s.commit(); });
    }
    static keel::task<void> rollback(session_type& s) {
        co_await keel::offload([&] { s.rollback(); });
    }
    static keel::task<unit_type> begin(session_type& s) {
        co_return co_await keel::offload([&] { return s.begin(); });
    }
    static keel::task<void> commit(unit_type& u) {
        co_await keel::offload([&] { u.commit(); });
    }
};

// Deferring sends nothing, so either kind does it where it is.
template <class Session, class... A>
keel::deferred_result defer(Session& s, std::string_view sql, const A&... a) {
    return s.exec_deferred(sql, a...);
}

// The awaited session, as a coroutine handler uses it.
struct awaited_kind {
    using session_type = keel::async_session;
    using unit_type = keel::async_session::unit;

    template <class... A>
    static keel::task<keel::result> exec(session_type& s, std::string_view sql, const A&... a) {
        return s.exec(sql, a...);
    }
    template <class T, class... A>
    static keel::task<T> scalar(session_type& s, std::string_view sql, const A&... a) {
        return s.scalar<T>(sql, a...);
    }
    template <class T, class... A>
    static keel::task<T> one(session_type& s, std::string_view sql, const A&... a) {
        return s.one<T>(sql, a...);
    }
    template <class T, class... A>
    static keel::task<std::optional<T>> first(session_type& s, std::string_view sql, const A&... a) {
        return s.first<T>(sql, a...);
    }
    template <class T, class... A>
    static keel::task<std::vector<T>> all(session_type& s, std::string_view sql, const A&... a) {
        return s.all<T>(sql, a...);
    }
    static keel::task<void> commit(session_type& s) { return s.commit(); }
    static keel::task<void> rollback(session_type& s) { return s.rollback(); }
    static keel::task<unit_type> begin(session_type& s) { return s.begin(); }
    static keel::task<void> commit(unit_type& u) { return u.commit(); }
};

// Whether awaiting `work` throws an E.
template <class E, class T>
keel::task<bool> throws(keel::task<T> work) {
    try {
        co_await std::move(work);
    } catch (const E&) {
        co_return true;
    }
    co_return false;
}

// How awaiting `work` ended, for the tests of lost connections: "in doubt", "lost <SQLSTATE>", or
// "succeeded" (any other failure is thrown).
template <class T>
keel::task<std::string> loss_of(keel::task<T> work) {
    try {
        co_await std::move(work);
    } catch (const keel::commit_in_doubt&) {
        co_return "in doubt";
    } catch (const keel::connection_lost& e) {
        co_return "lost " + e.sqlstate();
    }
    co_return "succeeded";
}

// Each test works in a table of its own on the shared server, with a pool of three.
class SessionBehaviour {
protected:
    SessionBehaviour() {
        options_.url = postgres_environment::server().url();
        options_.pool_size = 3;
        options_.max_overflow = 0;
        options_.pool_timeout = 2s;
        engine_ = std::make_unique<keel::engine>(options_);
        const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
        table_ = std::string("members_") + test->name() + "_" + (test->type_param() ? "t" : "f");
        for (auto& c : table_) {
            if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
        }
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
    // See backend_watch.hpp: on the shared server.
    template <class Act>
    static std::jthread when_sleeping(std::string marker, Act act) {
        return keel_test::when_sleeping(postgres_environment::server().url(), std::move(marker), act);
    }
    static std::jthread terminate_when_sleeping(std::string marker) {
        return keel_test::terminate_when_sleeping(postgres_environment::server().url(), std::move(marker));
    }
    // The engine connects through `proxy` from now on.
    void connect_through(const keel_test::cutting_proxy& proxy) {
        options_.url = proxy.url_through(options_.url);
        engine_ = std::make_unique<keel::engine>(options_);
    }
    // Whether the table comes to hold `rows` rows within 10 s.
    bool count_reaches(long rows) {
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (count() != rows) {
            if (std::chrono::steady_clock::now() > deadline) return false;
            std::this_thread::sleep_for(20ms);
        }
        return true;
    }
    std::string insert_sql() const {
        return "INSERT INTO " + table_ + " (email, nickname) VALUES ($1, $2) RETURNING id";
    }
    // Runs a test's body, a coroutine, to its end on an event loop of this thread's own.
    template <class Body>
    void run(Body body) {
        keel::sync_wait(body());
    }

    keel::engine_options options_;
    std::unique_ptr<keel::engine> engine_;
    std::string table_;
};

template <class Kind>
class EverySession : public SessionBehaviour, public ::testing::Test {
protected:
    using kind = Kind;
    typename Kind::session_type open(keel::session_options o = {}) {
        return typename Kind::session_type(*engine_, o);
    }
};

using session_kinds = ::testing::Types<blocking_kind, awaited_kind>;
class session_kind_names {
public:
    template <class T>
    static std::string GetName(int) {
        return std::is_same_v<T, blocking_kind> ? "blocking" : "awaited";
    }
};
TYPED_TEST_SUITE(EverySession, session_kinds, session_kind_names);

}  // namespace

TYPED_TEST(EverySession, CommitMakesTheWorkVisible) {
    using K = typename TestFixture::kind;
    this->run([&]() -> keel::task<void> {
        auto s = this->open();
        co_await K::exec(s, this->insert_sql(), "a@x", nullptr);
        EXPECT_EQ(this->count(), 0);  // not yet committed: another connection cannot see it
        co_await K::commit(s);
        EXPECT_EQ(this->count(), 1);
        EXPECT_FALSE(s.in_transaction());
    });
    EXPECT_EQ(this->engine_->status().checked_out, 0u);
}

TYPED_TEST(EverySession, RollbackDiscardsTheWorkAndReturnsTheConnection) {
    using K = typename TestFixture::kind;
    this->run([&]() -> keel::task<void> {
        auto s = this->open();
        co_await K::exec(s, this->insert_sql(), "a@x", nullptr);
        co_await K::rollback(s);
        EXPECT_EQ(this->engine_->status().checked_out, 0u);
        co_await K::exec(s, this->insert_sql(), "b@x", nullptr);  // a new transaction
        co_await K::rollback(s);
    });
    EXPECT_EQ(this->count(), 0);
    EXPECT_EQ(this->engine_->status().checked_out, 0u);
    EXPECT_EQ(this->engine_->status().discarded, 0u);  // rolled back, not closed
}

TYPED_TEST(EverySession, DestroyedWithAnOpenTransactionItLeavesNothing) {
    using K = typename TestFixture::kind;
    this->run([&]() -> keel::task<void> {
        auto s = this->open();
        co_await K::exec(s, this->insert_sql(), "dropped@x", nullptr);
    });
    EXPECT_EQ(this->count(), 0);
    EXPECT_EQ(this->engine_->status().checked_out, 0u);
}

TYPED_TEST(EverySession, NoConnectionIsTakenUntilTheFirstStatement) {
    using K = typename TestFixture::kind;
    this->run([&]() -> keel::task<void> {
        auto s = this->open();
        EXPECT_FALSE(s.in_transaction());
        EXPECT_EQ(this->engine_->status().created, 0u);
        EXPECT_EQ(co_await K::template scalar<int>(s, "SELECT 1"), 1);
        EXPECT_TRUE(s.in_transaction());
        EXPECT_EQ(this->engine_->status().checked_out, 1u);
        co_await K::commit(s);
        EXPECT_EQ(this->engine_->status().checked_out, 0u);
    });
}

TYPED_TEST(EverySession, AFailedInnerUnitLeavesTheOuterWorkUsable) {
    using K = typename TestFixture::kind;
    this->run([&]() -> keel::task<void> {
        auto s = this->open();
        auto outer = co_await K::begin(s);
        co_await K::exec(s, this->insert_sql(), "kept@x", nullptr);
        {
            auto inner = co_await K::begin(s);  // a savepoint
            co_await K::exec(s, this->insert_sql(), "dropped@x", nullptr);
            // A unique violation inside the savepoint; the unit then goes without commit.
            EXPECT_TRUE(
                co_await throws<keel::unique_violation>(K::exec(s, this->insert_sql(), "kept@x", nullptr)));
        }
        co_await K::exec(s, this->insert_sql(), "after@x", nullptr);  // the outer one is not poisoned
        {
            auto released = co_await K::begin(s);
            co_await K::exec(s, this->insert_sql(), "released@x", nullptr);
            co_await K::commit(released);
        }
        co_await K::commit(outer);
    });
    EXPECT_EQ(this->count(), 3);
}

TYPED_TEST(EverySession, AUnitThatIsTheWholeTransactionRollsItBackWhenDropped) {
    using K = typename TestFixture::kind;
    this->run([&]() -> keel::task<void> {
        auto s = this->open();
        {
            auto unit = co_await K::begin(s);
            co_await K::exec(s, this->insert_sql(), "ghost@x", nullptr);
        }
        EXPECT_EQ(co_await K::template scalar<long>(s, "SELECT count(*) FROM " + this->table_), 0);
        co_await K::commit(s);
    });
    EXPECT_EQ(this->count(), 0);
}

TYPED_TEST(EverySession, RowsMapToModelsByColumnName) {
    using K = typename TestFixture::kind;
    this->run([&]() -> keel::task<void> {
        auto s = this->open();
        const auto t = this->table_;
        const auto id = co_await K::template scalar<std::int64_t>(s, this->insert_sql(), "m@x", "em");
        co_await K::exec(s, this->insert_sql(), "n@x", nullptr);
        const auto one = co_await K::template one<member>(
            s, "SELECT nickname, email, id FROM " + t + " WHERE id = $1", id);
        EXPECT_EQ(one.email, "m@x");
        EXPECT_EQ(one.nickname, "em");
        const auto all = co_await K::template all<member>(s, "SELECT * FROM " + t + " ORDER BY id");
        EXPECT_EQ(all.size(), 2u);
        if (all.size() == 2) {
            EXPECT_FALSE(all[1].nickname.has_value());
        }
        EXPECT_FALSE((co_await K::template first<member>(s, "SELECT * FROM " + t + " WHERE id = $1", -1)));
        EXPECT_TRUE(co_await throws<std::logic_error>(K::template one<member>(s, "SELECT * FROM " + t)));
        EXPECT_TRUE(co_await throws<std::runtime_error>(K::template scalar<int>(s, "SELECT NULL::int")));
        const auto affected = co_await K::exec(s, "UPDATE " + t + " SET nickname = 'x'");
        EXPECT_EQ(affected.affected_rows(), 2u);
        co_await K::commit(s);
    });
}

TYPED_TEST(EverySession, RepeatedStatementsArePreparedOnce) {
    using K = typename TestFixture::kind;
    this->run([&]() -> keel::task<void> {
        auto s = this->open();
        for (int i = 0; i < 5; ++i)
            EXPECT_EQ(co_await K::template scalar<int>(s, "SELECT $1::int + 1", i), i + 1);
        EXPECT_EQ(
            co_await K::template scalar<long>(
                s, "SELECT count(*) FROM pg_prepared_statements WHERE statement = 'SELECT $1::int + 1'"),
            1);
        co_await K::commit(s);
    });
}

// Services that build SQL at run time must not grow every connection without end: beyond
// statement_cache_size the least recently used statement is deallocated, and what was evicted
// is prepared again when it comes back.
TYPED_TEST(EverySession, ThePreparedStatementCacheIsBoundedLeastRecentlyUsedFirst) {
    using K = typename TestFixture::kind;
    this->options_.pool_size = 1;
    this->options_.statement_cache_size = 3;
    this->engine_ = std::make_unique<keel::engine>(this->options_);
    this->run([&]() -> keel::task<void> {
        auto s = this->open();
        const auto prepared = [&]() -> keel::task<long> {
            co_return co_await K::template scalar<long>(
                s, "SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'keel\\_%'");
        };
        for (int round = 0; round < 3; ++round) {
            for (int i = 0; i < 8; ++i) {  // eight distinct statements, each with its own answer
                const auto sql = "SELECT $1::int + " + std::to_string(i);
                EXPECT_EQ(co_await K::template scalar<int>(s, sql, 100), 100 + i);
            }
        }
        // The counting statement itself is one of the three.
        EXPECT_EQ(co_await prepared(), 3);
        // The most recently used ones are still prepared: they are not prepared again.
        EXPECT_EQ(co_await K::template scalar<int>(s, "SELECT $1::int + 7", 1), 8);
        EXPECT_EQ(
            co_await K::template scalar<long>(
                s, "SELECT count(*) FROM pg_prepared_statements WHERE statement = 'SELECT $1::int + 7'"),
            1);
        co_await K::commit(s);
    });
}

// Behind a transaction-mode pooler a named statement may meet another server connection (or
// another instance's statement of the same name): with transaction_pooler nothing is prepared,
// and every statement still works, with its parameters, pipelined with BEGIN.
TYPED_TEST(EverySession, BehindATransactionPoolerNothingIsPrepared) {
    using K = typename TestFixture::kind;
    this->options_.transaction_pooler = true;
    this->engine_ = std::make_unique<keel::engine>(this->options_);
    this->run([&]() -> keel::task<void> {
        auto s = this->open();
        const auto id = co_await K::template scalar<std::int64_t>(s, this->insert_sql(), "p@x", "pooled");
        const member found =
            co_await K::template one<member>(s, "SELECT * FROM " + this->table_ + " WHERE id = $1", id);
        EXPECT_EQ(found.nickname, "pooled");
        EXPECT_TRUE(co_await throws<keel::unique_violation>(K::exec(s, this->insert_sql(), "p@x", nullptr)));
        co_await K::rollback(s);
        auto t = this->open();
        EXPECT_EQ(co_await K::template scalar<long>(t, "SELECT count(*) FROM pg_prepared_statements"), 0);
        EXPECT_EQ(co_await K::template scalar<int>(t, "SELECT $1::int * 2", 21), 42);
        co_await K::commit(t);
    });
}

TYPED_TEST(EverySession, DatabaseErrorsAreTypedBySqlstate) {
    using K = typename TestFixture::kind;
    this->run([&]() -> keel::task<void> {
        auto s = this->open();
        co_await K::exec(s, this->insert_sql(), "dup@x", nullptr);
        try {
            co_await K::exec(s, this->insert_sql(), "dup@x", nullptr);
            ADD_FAILURE() << "the duplicate was accepted";
        } catch (const keel::unique_violation& e) {
            EXPECT_EQ(e.sqlstate(), "23505");
        }
        co_await K::rollback(s);
        try {
            co_await K::exec(s, "SELECT 1 / $1::int", 0);
            ADD_FAILURE() << "division by zero succeeded";
        } catch (const keel::database_error& e) {
            EXPECT_EQ(e.sqlstate(), "22012");
        }
        co_await K::rollback(s);
        EXPECT_TRUE(co_await throws<keel::not_null_violation>(
            K::exec(s, "INSERT INTO " + this->table_ + " (email) VALUES (NULL)")));
        co_await K::rollback(s);
        EXPECT_TRUE(co_await throws<keel::database_error>(K::exec(s, "SELECT * FROM no_such_table")));
        co_await K::rollback(s);
    });
    EXPECT_EQ(this->engine_->status().discarded, 0u);  // statement errors do not cost connections
}

TYPED_TEST(EverySession, StatementTimeoutCancels) {
    using K = typename TestFixture::kind;
    this->run([&]() -> keel::task<void> {
        auto s = this->open({.statement_timeout = 50ms});
        EXPECT_TRUE(co_await throws<keel::query_canceled>(K::exec(s, "SELECT pg_sleep(2)")));
        co_await K::rollback(s);
    });
}

// A statement error the code caught still aborted the transaction: committing it must fail
// (PostgreSQL itself answers such a COMMIT with a quiet ROLLBACK), and the connection must come
// back clean for the next session.
TYPED_TEST(EverySession, CommittingATransactionAnErrorAbortedFailsAndTheConnectionComesBackClean) {
    using K = typename TestFixture::kind;
    this->options_.pool_size = 1;
    this->engine_ = std::make_unique<keel::engine>(this->options_);
    this->run([&]() -> keel::task<void> {
        {
            auto s = this->open();
            co_await K::exec(s, this->insert_sql(), "kept-out@x", nullptr);
            EXPECT_TRUE(co_await throws<keel::database_error>(K::exec(s, "SELECT 1 / 0")));
            try {
                co_await K::commit(s);
                ADD_FAILURE() << "commit reported success";
            } catch (const keel::database_error& e) {
                EXPECT_EQ(e.sqlstate(), "25P02");
            }
        }
        {
            auto s = this->open();  // the very first statement fails
            EXPECT_TRUE(co_await throws<keel::database_error>(K::template scalar<int>(s, "SELECT 1 / 0")));
            co_await K::rollback(s);
        }
        auto next = this->open();  // the same (only) connection: no transaction left open on it
        EXPECT_EQ(co_await K::template scalar<int>(next, "SELECT 2"), 2);
        co_await K::commit(next);
    });
    EXPECT_EQ(this->count(), 0);
    EXPECT_EQ(this->engine_->status().created, 1u);
}

TYPED_TEST(EverySession, ALostConnectionIsReportedAndNotReused) {
    using K = typename TestFixture::kind;
    this->run([&]() -> keel::task<void> {
        auto s = this->open();
        const auto pid = co_await K::template scalar<int>(s, "SELECT pg_backend_pid()");
        this->admin("SELECT pg_terminate_backend(" + std::to_string(pid) + ")");
        EXPECT_TRUE(co_await throws<keel::connection_lost>(K::exec(s, "SELECT 1")));
        co_await K::rollback(s);
        auto again = this->open();
        EXPECT_NE(co_await K::template scalar<int>(again, "SELECT pg_backend_pid()"), pid);
        co_await K::commit(again);
    });
    EXPECT_GE(this->engine_->status().discarded, 1u);
}

TYPED_TEST(EverySession, AnExhaustedPoolTimesOutAndServesAgainAfterwards) {
    using K = typename TestFixture::kind;
    this->options_.pool_size = 1;
    this->options_.pool_timeout = 200ms;
    this->engine_ = std::make_unique<keel::engine>(this->options_);
    this->run([&]() -> keel::task<void> {
        auto holder = this->open();
        co_await K::exec(holder, "SELECT 1");
        auto starved = this->open();
        const auto start = std::chrono::steady_clock::now();
        EXPECT_TRUE(co_await throws<keel::pool_timeout>(K::exec(starved, "SELECT 1")));
        EXPECT_GE(std::chrono::steady_clock::now() - start,
                  150ms);  // it waited (pool_timeout, less the clock's grain)
        co_await K::commit(holder);
        EXPECT_EQ(co_await K::template scalar<int>(starved, "SELECT 3"), 3);
        co_await K::commit(starved);
    });
    EXPECT_EQ(this->engine_->status().timeouts, 1u);
    EXPECT_EQ(this->engine_->status().checked_out, 0u);
}

TYPED_TEST(EverySession, ANulByteIsRefusedBeforeAnythingIsSent) {
    using K = typename TestFixture::kind;
    this->run([&]() -> keel::task<void> {
        auto s = this->open();
        try {
            co_await K::exec(s, this->insert_sql(), std::string("a\0b", 3), nullptr);
            ADD_FAILURE() << "a NUL byte was sent";
        } catch (const keel::database_error& e) {
            EXPECT_EQ(e.sqlstate(), "22021");
        }
        EXPECT_FALSE(s.in_transaction());  // refused before a connection was even taken
    });
    EXPECT_EQ(this->count(), 0);
}

TYPED_TEST(EverySession, AMovedFromSessionIsSafeToDestroyAndToTearDown) {
    using K = typename TestFixture::kind;
    this->run([&]() -> keel::task<void> {
        auto first = this->open();
        co_await K::exec(first, this->insert_sql(), "moved@x", nullptr);
        auto second = std::move(first);
        co_await K::commit(first);    // NOLINT(bugprone-use-after-move): what a teardown holding it does
        co_await K::rollback(first);  // NOLINT(bugprone-use-after-move)
        EXPECT_FALSE(first.in_transaction());  // NOLINT(bugprone-use-after-move)
        EXPECT_TRUE(co_await throws<std::logic_error>(K::exec(first, "SELECT 1")));  // NOLINT
        EXPECT_TRUE(second.in_transaction());
        co_await K::commit(second);
    });
    EXPECT_EQ(this->count(), 1);
}

// Deferred statements go out, in the order they were deferred, ahead of the next statement:
// it sees their work. Deferring alone takes no connection.
TYPED_TEST(EverySession, DeferredStatementsRunInOrderAheadOfTheNextStatement) {
    using K = typename TestFixture::kind;
    this->run([&]() -> keel::task<void> {
        auto s = this->open();
        defer(s, this->insert_sql(), "first@x", "one");
        defer(s, "UPDATE " + this->table_ + " SET nickname = nickname || $1", "+two");
        EXPECT_FALSE(s.in_transaction());
        EXPECT_EQ(this->engine_->status().created, 0u);
        EXPECT_EQ(co_await K::template scalar<std::string>(s, "SELECT nickname FROM " + this->table_),
                  "one+two");
        EXPECT_EQ(this->count(), 0);  // in the session's transaction, not yet committed
        co_await K::commit(s);
    });
    EXPECT_EQ(this->count(), 1);
    EXPECT_EQ(this->engine_->status().checked_out, 0u);
}

// What was deferred last goes with the COMMIT, also when nothing else ran in the transaction.
TYPED_TEST(EverySession, DeferredStatementsAreCommittedWithTheTransaction) {
    using K = typename TestFixture::kind;
    this->run([&]() -> keel::task<void> {
        auto s = this->open();
        defer(s, this->insert_sql(), "only-deferred@x", nullptr);
        co_await K::commit(s);
        EXPECT_EQ(this->count(), 1);
        co_await K::exec(s, this->insert_sql(), "then@x", nullptr);
        defer(s, this->insert_sql(), "deferred-last@x", nullptr);
        co_await K::commit(s);
    });
    EXPECT_EQ(this->count(), 3);
    EXPECT_EQ(this->engine_->status().checked_out, 0u);
}

// A statement PostgreSQL refuses to prepare, the first of its transaction, caught by the
// handler: what the session runs next is still in a transaction, so a rollback takes it back
// (nothing slipped out as a statement committed on its own).
TYPED_TEST(EverySession, AFirstStatementThatFailsToPrepareLeavesTheTransactionToComeWhole) {
    using K = typename TestFixture::kind;
    this->run([&]() -> keel::task<void> {
        auto s = this->open();
        EXPECT_TRUE(co_await throws<keel::database_error>(K::exec(s, "SELEC 1")));
        if constexpr (std::is_same_v<K, blocking_kind>) {
            // The PREPARE went before the BEGIN: the transaction is still to begin, and does.
            co_await K::exec(s, this->insert_sql(), "a@x", nullptr);
            EXPECT_EQ(co_await K::template scalar<long>(s, "SELECT count(*) FROM " + this->table_), 1);
        } else {
            // The PREPARE went after the BEGIN, in its round trip: the transaction is aborted.
            try {
                co_await K::exec(s, this->insert_sql(), "a@x", nullptr);
                ADD_FAILURE() << "a statement ran in an aborted transaction";
            } catch (const keel::database_error& e) {
                EXPECT_EQ(e.sqlstate(), "25P02");
            }
        }
        co_await K::rollback(s);
    });
    EXPECT_EQ(this->count(), 0) << "a statement ran outside the session's transaction";
    EXPECT_EQ(this->engine_->status().checked_out, 0u);
}

// The same refusal for a deferred statement, with another deferred behind it: neither is lost
// while the commit reports success (the commit fails too, and nothing is committed).
TYPED_TEST(EverySession, ADeferredStatementRefusedAtItsPrepareIsNotCommittedAway) {
    using K = typename TestFixture::kind;
    this->run([&]() -> keel::task<void> {
        auto s = this->open();
        const auto refused = defer(s, "INSERT INTO no_such_table VALUES (1)");
        const auto inserted = defer(s, this->insert_sql(), "a@x", nullptr);
        EXPECT_TRUE(co_await throws<keel::database_error>(K::exec(s, "SELECT 1")));
        EXPECT_TRUE(co_await throws<keel::database_error>(K::commit(s)))
            << "committed, leaving the deferred statements out";
        EXPECT_FALSE(refused.ready());
        EXPECT_FALSE(inserted.ready());
    });
    EXPECT_EQ(this->count(), 0);
    EXPECT_EQ(this->engine_->status().checked_out, 0u);
}

// A deferred statement PostgreSQL refuses is thrown, typed, by the call that sent it; the
// statement after it never ran, and nothing of the transaction commits.
TYPED_TEST(EverySession, ADeferredStatementsFailureIsThrownByTheCallThatSentIt) {
    using K = typename TestFixture::kind;
    this->run([&]() -> keel::task<void> {
        auto s = this->open();
        co_await K::exec(s, this->insert_sql(), "taken@x", nullptr);
        defer(s, this->insert_sql(), "taken@x", nullptr);
        EXPECT_TRUE(
            co_await throws<keel::unique_violation>(K::exec(s, this->insert_sql(), "next@x", nullptr)));
        EXPECT_TRUE(co_await throws<keel::database_error>(K::commit(s)));
        EXPECT_FALSE(s.in_transaction());

        co_await K::exec(s, this->insert_sql(), "again@x", nullptr);
        defer(s, this->insert_sql(), "again@x", nullptr);
        try {
            co_await K::commit(s);
            ADD_FAILURE() << "a transaction whose deferred statement failed was reported committed";
        } catch (const keel::unique_violation& e) {
            EXPECT_EQ(e.sqlstate(), "23505");
        }
        EXPECT_FALSE(s.in_transaction());
    });
    EXPECT_EQ(this->count(), 0);
    EXPECT_EQ(this->engine_->status().checked_out, 0u);
    EXPECT_EQ(this->engine_->status().discarded, 0u);  // rolled back, not closed
}

// A deferred statement runs under the session's statement_timeout like any other.
TYPED_TEST(EverySession, ADeferredStatementIsBoundByTheStatementTimeout) {
    using K = typename TestFixture::kind;
    this->run([&]() -> keel::task<void> {
        auto s = this->open({.statement_timeout = 50ms});
        defer(s, "SELECT pg_sleep(2)");
        EXPECT_TRUE(co_await throws<keel::query_canceled>(K::exec(s, "SELECT 1")));
        co_await K::rollback(s);
    });
}

// A unit of work rolled back takes what was deferred within it along, whether its SAVEPOINT
// went out or not; what was deferred before it stays.
TYPED_TEST(EverySession, ARolledBackUnitTakesItsDeferredStatementsAlong) {
    using K = typename TestFixture::kind;
    this->run([&]() -> keel::task<void> {
        auto s = this->open();
        defer(s, this->insert_sql(), "before@x", nullptr);
        {
            auto unsent = co_await K::begin(s);  // a savepoint: something was deferred before it
            defer(s, this->insert_sql(), "inside-unsent@x", nullptr);
        }
        {
            auto sent = co_await K::begin(s);
            co_await K::exec(s, this->insert_sql(), "inside-sent@x", nullptr);
            defer(s, this->insert_sql(), "inside-deferred@x", nullptr);
            defer(s, "SELECT 1 / 0");  // never runs: the unit goes first
        }
        {
            auto kept = co_await K::begin(s);
            defer(s, this->insert_sql(), "kept@x", nullptr);
            co_await K::commit(kept);
        }
        co_await K::commit(s);
    });
    pqxx::connection c(postgres_environment::server().url());
    const pqxx::result emails =
        pqxx::nontransaction(c).exec("SELECT email FROM " + this->table_ + " ORDER BY id");
    ASSERT_EQ(emails.size(), 2u);
    EXPECT_EQ(emails[0][0].as<std::string>(), "before@x");
    EXPECT_EQ(emails[1][0].as<std::string>(), "kept@x");
}

// A session dropped (or rolled back) with statements deferred sends them nowhere.
TYPED_TEST(EverySession, DeferredStatementsOfASessionRolledBackAreNeverSent) {
    using K = typename TestFixture::kind;
    this->run([&]() -> keel::task<void> {
        {
            auto dropped = this->open();
            defer(dropped, this->insert_sql(), "dropped@x", nullptr);
        }
        auto s = this->open();
        co_await K::exec(s, this->insert_sql(), "rolled-back@x", nullptr);
        defer(s, this->insert_sql(), "deferred-rolled-back@x", nullptr);
        co_await K::rollback(s);
        EXPECT_TRUE(co_await throws<keel::database_error>([&]() -> keel::task<void> {
            auto refused = this->open();
            defer(refused, this->insert_sql(), std::string("a\0b", 3), nullptr);  // refused at once
            co_return;
        }()));
    });
    EXPECT_EQ(this->count(), 0);
    EXPECT_EQ(this->engine_->status().checked_out, 0u);
}

// Deferred statements use the connection's prepared statements like any other, also when the
// cache is too small for all the statements of one round trip.
TYPED_TEST(EverySession, DeferredStatementsArePreparedAndTheCacheBoundHolds) {
    using K = typename TestFixture::kind;
    this->options_.pool_size = 1;
    this->options_.statement_cache_size = 1;
    this->engine_ = std::make_unique<keel::engine>(this->options_);
    const auto bump = "UPDATE " + this->table_ + " SET nickname = $1 WHERE email = $2";
    this->run([&]() -> keel::task<void> {
        auto s = this->open();
        co_await K::exec(s, this->insert_sql(), "c@x", nullptr);
        for (int i = 0; i < 4; ++i) {  // two new statements a round trip, room for one
            defer(s, bump, "n" + std::to_string(i), "c@x");
            defer(s, bump, "m" + std::to_string(i), "c@x");
            EXPECT_EQ(co_await K::template scalar<std::string>(
                          s, "SELECT nickname FROM " + this->table_ + " WHERE email = $1", "c@x"),
                      "m" + std::to_string(i));
        }
        co_await K::commit(s);
    });
    this->options_.statement_cache_size = 8;
    this->engine_ = std::make_unique<keel::engine>(this->options_);
    this->run([&]() -> keel::task<void> {
        auto s = this->open();
        for (int i = 0; i < 3; ++i) defer(s, bump, "p", "c@x");
        EXPECT_EQ(co_await K::template scalar<long>(
                      s, "SELECT count(*) FROM pg_prepared_statements WHERE statement = $1", bump),
                  1);
        co_await K::commit(s);
    });
}

// Autocommit: each statement commits before its call returns, and no connection (nor open
// transaction) is held between statements; a rollback has nothing left to undo.
TYPED_TEST(EverySession, AnAutocommitSessionCommitsEachStatementOnItsOwn) {
    using K = typename TestFixture::kind;
    this->options_.pool_size = 1;  // the pool's one connection is the one looked at
    this->engine_ = std::make_unique<keel::engine>(this->options_);
    this->run([&]() -> keel::task<void> {
        auto s = this->open({.autocommit = true});
        const auto pid = co_await K::template scalar<int>(s, "SELECT pg_backend_pid()");
        co_await K::exec(s, this->insert_sql(), "a@x", nullptr);
        EXPECT_EQ(this->count(), 1);  // seen from another connection at once
        EXPECT_FALSE(s.in_transaction());
        EXPECT_EQ(this->engine_->status().checked_out, 0u);
        {
            pqxx::connection c(postgres_environment::server().url());
            EXPECT_EQ(pqxx::nontransaction(c)
                          .exec_params1("SELECT state FROM pg_stat_activity WHERE pid = $1", pid)[0]
                          .template as<std::string>(),
                      "idle");  // not "idle in transaction"
        }
        defer(s, this->insert_sql(), "deferred@x", nullptr);
        co_await K::exec(s, this->insert_sql(), "b@x", nullptr);  // with the deferred one, both committed
        EXPECT_EQ(this->count(), 3);
        co_await K::rollback(s);  // nothing left to undo
        defer(s, this->insert_sql(), "at-commit@x", nullptr);
        co_await K::commit(s);
    });
    EXPECT_EQ(this->count(), 4);
    EXPECT_EQ(this->engine_->status().checked_out, 0u);
}

// A statement that fails takes its transaction (and what was deferred with it) along; the
// connection comes back clean, not in an aborted transaction.
TYPED_TEST(EverySession, AFailedAutocommitStatementLeavesNothingBehind) {
    using K = typename TestFixture::kind;
    this->options_.pool_size = 1;
    this->engine_ = std::make_unique<keel::engine>(this->options_);
    this->run([&]() -> keel::task<void> {
        auto s = this->open({.autocommit = true});
        co_await K::exec(s, this->insert_sql(), "taken@x", nullptr);
        defer(s, this->insert_sql(), "with-the-failure@x", nullptr);
        EXPECT_TRUE(
            co_await throws<keel::unique_violation>(K::exec(s, this->insert_sql(), "taken@x", nullptr)));
        EXPECT_FALSE(s.in_transaction());
        EXPECT_EQ(co_await K::template scalar<long>(s, "SELECT count(*) FROM " + this->table_), 1);
        EXPECT_TRUE(co_await throws<std::logic_error>(K::begin(s)));  // no units of work
    });
    EXPECT_EQ(this->count(), 1);
    EXPECT_EQ(this->engine_->status().created, 1u);  // the one connection was never lost
    EXPECT_EQ(this->engine_->status().checked_out, 0u);
}

// Autocommit keeps the session's other options: READ ONLY refuses writes, and the
// statement_timeout bounds each statement.
TYPED_TEST(EverySession, AnAutocommitSessionKeepsReadOnlyAndTheStatementTimeout) {
    using K = typename TestFixture::kind;
    this->run([&]() -> keel::task<void> {
        auto reads = this->open({.read_only = true, .statement_timeout = 50ms, .autocommit = true});
        try {
            co_await K::exec(reads, this->insert_sql(), "refused@x", nullptr);
            ADD_FAILURE() << "a read-only autocommit session wrote";
        } catch (const keel::database_error& e) {
            EXPECT_EQ(e.sqlstate(), "25006");
        }
        EXPECT_TRUE(co_await throws<keel::query_canceled>(K::exec(reads, "SELECT pg_sleep(2)")));
        EXPECT_EQ(co_await K::template scalar<int>(reads, "SELECT 7"), 7);
        co_await K::commit(reads);
    });
    EXPECT_EQ(this->count(), 0);
    EXPECT_EQ(this->engine_->status().checked_out, 0u);
}

// Between two statements the pooled connection died: the write is refused before its COMMIT
// could go out (nothing committed, for certain), and the next statement gets a new connection.
TYPED_TEST(EverySession, AnAutocommitWriteOnAConnectionThatDiedCommitsNothing) {
    using K = typename TestFixture::kind;
    this->options_.pool_size = 1;
    this->engine_ = std::make_unique<keel::engine>(this->options_);
    this->run([&]() -> keel::task<void> {
        auto s = this->open({.autocommit = true});
        const auto pid = co_await K::template scalar<int>(s, "SELECT pg_backend_pid()");
        this->admin("SELECT pg_terminate_backend(" + std::to_string(pid) +
                    ", 5000)");  // waits for it to exit
        const std::string loss = co_await loss_of(K::exec(s, this->insert_sql(), "lost@x", nullptr));
        EXPECT_TRUE(loss.starts_with("lost ")) << loss;  // not in doubt: nothing went out
        EXPECT_NE(co_await K::template scalar<int>(s, "SELECT pg_backend_pid()"), pid);
    });
    EXPECT_EQ(this->count(), 0);
    EXPECT_EQ(this->engine_->status().checked_out, 0u);
}

// The backend is terminated while an autocommit write runs, its COMMIT already sent behind it:
// PostgreSQL says so (57P01) for the statement, so the COMMIT never ran. The connection is
// reported lost (a request may be retried), not in doubt, and nothing was committed.
TYPED_TEST(EverySession, AnAutocommitWriteWhoseBackendIsTerminatedMidStatementIsNotInDoubt) {
    using K = typename TestFixture::kind;
    this->run([&]() -> keel::task<void> {
        auto s = this->open({.autocommit = true});
        auto killer = this->terminate_when_sleeping("autocommit_dies");
        const auto loss = co_await loss_of(K::exec(
            s, "INSERT INTO " + this->table_ + " (email) SELECT 'x@x' FROM pg_sleep(2) -- autocommit_dies"));
        killer.join();
        EXPECT_EQ(loss, "lost 57P01");
    });
    EXPECT_EQ(this->count(), 0);
    EXPECT_EQ(this->engine_->status().checked_out, 0u);
}

// The connection is cut (no word from the server) while an autocommit write runs, its COMMIT
// already sent behind it: the outcome is in doubt, never a success nor a plain failure that
// invites a retry. Here the backend goes on and commits: that is why.
TYPED_TEST(EverySession, AnAutocommitWriteWhoseConnectionIsCutMidRoundTripIsInDoubt) {
    using K = typename TestFixture::kind;
    keel_test::cutting_proxy proxy(keel_test::cutting_proxy::port_of(this->options_.url));
    this->connect_through(proxy);
    this->run([&]() -> keel::task<void> {
        auto s = this->open({.autocommit = true});
        auto cutter = this->when_sleeping("autocommit_cut", [&] { proxy.cut(); });
        const bool in_doubt = co_await throws<keel::commit_in_doubt>(K::exec(
            s, "INSERT INTO " + this->table_ + " (email) SELECT 'x@x' FROM pg_sleep(1) -- autocommit_cut"));
        cutter.join();
        EXPECT_TRUE(in_doubt);
    });
    EXPECT_TRUE(this->count_reaches(1)) << "the write the client lost was committed by the server";
    EXPECT_EQ(this->engine_->status().checked_out, 0u);
}

// Making room in the cache for a statement a round trip prepares deallocates the least
// recently used one; when the same round trip then uses that one, it goes unnamed, and the
// cache forgets the deallocated statement, not another: both still work afterwards.
TYPED_TEST(EverySession, ARoundTripThatDeallocatesAStatementItAlsoUsesKeepsTheCacheTrue) {
    using K = typename TestFixture::kind;
    this->options_.pool_size = 1;
    this->options_.statement_cache_size = 2;
    this->engine_ = std::make_unique<keel::engine>(this->options_);
    this->run([&]() -> keel::task<void> {
        auto s = this->open();
        const std::string a = "SELECT $1::int + 1", b = "SELECT $1::int + 2";
        EXPECT_EQ(co_await K::template scalar<int>(s, a, 1), 2);
        EXPECT_EQ(co_await K::template scalar<int>(s, b, 1), 3);           // cache: b, a (a next to go)
        defer(s, "UPDATE " + this->table_ + " SET nickname = $1", "new");  // new: makes room
        EXPECT_EQ(co_await K::template scalar<int>(s, a, 1), 2);
        for (int i = 0; i < 2; ++i) {
            EXPECT_EQ(co_await K::template scalar<int>(s, a, 10), 11);
            EXPECT_EQ(co_await K::template scalar<int>(s, b, 10), 12);
        }
        co_await K::commit(s);
    });
}

// Deferred statements run before the statements after them are prepared: a statement may use
// what a deferred one creates.
TYPED_TEST(EverySession, AStatementMayUseWhatADeferredOneCreated) {
    using K = typename TestFixture::kind;
    this->run([&]() -> keel::task<void> {
        auto s = this->open();
        defer(s, "CREATE TEMP TABLE deferred_scratch (x int) ON COMMIT DROP");
        defer(s, "INSERT INTO deferred_scratch VALUES ($1)", 7);
        EXPECT_EQ(co_await K::template scalar<int>(s, "SELECT x FROM deferred_scratch"), 7);
        co_await K::commit(s);
    });
}

// Rolled back before anything was sent, what was deferred goes too: the next statement does
// not carry it.
TYPED_TEST(EverySession, ARollbackDropsWhatWasDeferredWithNoConnectionYet) {
    using K = typename TestFixture::kind;
    this->run([&]() -> keel::task<void> {
        auto plain = this->open();
        defer(plain, this->insert_sql(), "dropped@x", nullptr);
        co_await K::rollback(plain);
        co_await K::exec(plain, this->insert_sql(), "kept@x", nullptr);
        co_await K::commit(plain);
        auto autocommit = this->open({.autocommit = true});
        defer(autocommit, this->insert_sql(), "dropped-too@x", nullptr);
        co_await K::rollback(autocommit);
        co_await K::exec(autocommit, this->insert_sql(), "kept-too@x", nullptr);
    });
    EXPECT_EQ(this->count(), 2);
}

// A deferred statement's result is there once the call that carried it returned: the next
// statement's, or the commit's (one round trip for the INSERT and its COMMIT).
TYPED_TEST(EverySession, ADeferredStatementsResultIsThereOnceTheCallThatSentItReturned) {
    using K = typename TestFixture::kind;
    this->run([&]() -> keel::task<void> {
        auto s = this->open();
        const auto first = defer(s, this->insert_sql(), "first@x", "one");
        EXPECT_FALSE(first.ready());
        EXPECT_THROW(first.get(), std::logic_error);
        EXPECT_EQ(co_await K::template scalar<long>(s, "SELECT count(*) FROM " + this->table_), 1);
        EXPECT_TRUE(first.ready());
        if (!first.ready()) co_return;
        const auto first_id = first.template scalar<std::int64_t>();

        const auto second = defer(s, this->insert_sql(), "second@x", nullptr);
        const auto both = defer(s, "SELECT id, email, nickname FROM " + this->table_ + " ORDER BY id");
        co_await K::commit(s);
        EXPECT_TRUE(second.ready() && both.ready());
        if (!second.ready() || !both.ready()) co_return;
        EXPECT_GT(second.template scalar<std::int64_t>(), first_id);
        const auto members = both.template all<member>();
        EXPECT_EQ(members.size(), 2u);
        if (members.size() != 2) co_return;
        EXPECT_EQ(members[0].nickname, "one");
        EXPECT_EQ(members[1].email, "second@x");
        EXPECT_EQ(both.get().size(), 2u);
        EXPECT_EQ(first.template scalar<std::int64_t>(), first_id);  // it stays readable
        EXPECT_FALSE(both.template first<member>() == std::nullopt);
    });
    EXPECT_EQ(this->count(), 2);
    EXPECT_EQ(this->engine_->status().checked_out, 0u);
}

// A deferred statement whose round trip failed, or that a rollback dropped, never has a
// result: reading it says so, however far the statement itself got.
TYPED_TEST(EverySession, ADeferredResultIsNeverThereWhenItsCallFailedOrItWasRolledBack) {
    using K = typename TestFixture::kind;
    this->run([&]() -> keel::task<void> {
        auto s = this->open();
        const auto ran_before_failure = defer(s, this->insert_sql(), "ran@x", nullptr);
        EXPECT_TRUE(co_await throws<keel::database_error>(K::exec(s, "SELECT 1 / 0")));
        EXPECT_FALSE(ran_before_failure.ready());
        co_await K::rollback(s);

        co_await K::exec(s, this->insert_sql(), "taken@x", nullptr);
        const auto inserted = defer(s, this->insert_sql(), "fine@x", nullptr);
        const auto refused = defer(s, this->insert_sql(), "taken@x", nullptr);
        EXPECT_TRUE(co_await throws<keel::unique_violation>(K::commit(s)));
        EXPECT_FALSE(inserted.ready());
        EXPECT_FALSE(refused.ready());

        const auto rolled_back = defer(s, this->insert_sql(), "rolled-back@x", nullptr);
        co_await K::rollback(s);
        EXPECT_FALSE(rolled_back.ready());
        {
            auto unit = co_await K::begin(s);
            co_await K::exec(s, "SELECT 1");
            const auto in_unit = defer(s, this->insert_sql(), "in-unit@x", nullptr);
            std::optional<keel::deferred_result> dropped;
            {
                auto inner = co_await K::begin(s);
                dropped = defer(s, this->insert_sql(), "dropped@x", nullptr);
            }
            co_await K::commit(unit);
            EXPECT_FALSE(dropped->ready());
            EXPECT_TRUE(in_unit.ready());
        }
    });
    pqxx::connection c(postgres_environment::server().url());
    EXPECT_EQ(pqxx::nontransaction(c)
                  .exec1("SELECT string_agg(email, ',' ORDER BY id) FROM " + this->table_)[0]
                  .template as<std::string>(),
              "in-unit@x");
    EXPECT_EQ(this->engine_->status().checked_out, 0u);
}

// The COMMIT goes in the round trip that carries the last deferred statements. A backend
// terminated while they run says so (57P01) before the COMMIT could run: the connection is
// lost, not in doubt, and nothing was committed.
TYPED_TEST(EverySession, ACommitWhoseDeferredStatementsBackendIsTerminatedCommitsNothingAndSaysSo) {
    using K = typename TestFixture::kind;
    this->run([&]() -> keel::task<void> {
        auto s = this->open();
        co_await K::exec(s, "SELECT 1");  // the transaction is open: only the deferred statement is left
        auto killer = this->terminate_when_sleeping("deferred_dies");
        const auto inserted = defer(
            s, "INSERT INTO " + this->table_ + " (email) SELECT 'x@x' FROM pg_sleep(2) -- deferred_dies");
        const auto loss = co_await loss_of(K::commit(s));
        killer.join();
        EXPECT_EQ(loss, "lost 57P01");
        EXPECT_FALSE(inserted.ready());
        EXPECT_FALSE(s.in_transaction());
    });
    EXPECT_EQ(this->count(), 0);
    EXPECT_EQ(this->engine_->status().checked_out, 0u);
}

// The same round trip, its connection cut with no word from the server: in doubt (the COMMIT
// went out with the statements), and here the server commits.
TYPED_TEST(EverySession, ACommitCarryingDeferredStatementsWhoseConnectionIsCutIsInDoubt) {
    using K = typename TestFixture::kind;
    keel_test::cutting_proxy proxy(keel_test::cutting_proxy::port_of(this->options_.url));
    this->connect_through(proxy);
    this->run([&]() -> keel::task<void> {
        auto s = this->open();
        co_await K::exec(s, "SELECT 1");
        auto cutter = this->when_sleeping("deferred_cut", [&] { proxy.cut(); });
        const auto inserted = defer(
            s, "INSERT INTO " + this->table_ + " (email) SELECT 'x@x' FROM pg_sleep(1) -- deferred_cut");
        const bool in_doubt = co_await throws<keel::commit_in_doubt>(K::commit(s));
        cutter.join();
        EXPECT_TRUE(in_doubt);
        EXPECT_FALSE(inserted.ready());
    });
    EXPECT_TRUE(this->count_reaches(1)) << "the commit the client lost was made by the server";
    EXPECT_EQ(this->engine_->status().checked_out, 0u);
}

// ------------------------------------------------------------------ what only awaiting does

class AwaitedSession : public SessionBehaviour, public ::testing::Test {};

// Five sessions on one thread each wait in PostgreSQL at once, which a thread waiting per
// statement could not do. Shown without a clock: their statements queue for an advisory lock
// the test holds, and it lets go only once all five wait together (or after 10 s, failing).
TEST_F(AwaitedSession, StatementsOnOneThreadOverlapWhileTheyWait) {
    options_.pool_size = 5;
    engine_ = std::make_unique<keel::engine>(options_);
    constexpr int barrier_key = 730'415;
    auto holder = std::make_unique<pqxx::connection>(postgres_environment::server().url());
    pqxx::nontransaction(*holder).exec("SELECT pg_advisory_lock(" + std::to_string(barrier_key) + ")");
    int most_waiting = 0;
    std::jthread releaser([&, holder = std::move(holder)] {
        keel_test::poll_count(postgres_environment::server().url(),
                              "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'advisory' AND query "
                              "LIKE '%overlap_barrier%' AND pid <> pg_backend_pid()",
                              [&](int waiting) {
                                  most_waiting = std::max(most_waiting, waiting);
                                  return waiting >= 5;
                              });
        pqxx::nontransaction(*holder).exec("SELECT pg_advisory_unlock(" + std::to_string(barrier_key) + ")");
    });
    const std::string wait =
        "SELECT pg_advisory_xact_lock_shared(" + std::to_string(barrier_key) + ") -- overlap_barrier";
    run([&]() -> keel::task<void> {
        std::vector<keel::task<void>> sessions;
        for (int i = 0; i < 5; ++i) {
            sessions.push_back([](keel::engine& e, const std::string& statement) -> keel::task<void> {
                keel::async_session s(e);
                co_await s.exec(statement);
                co_await s.commit();
            }(*engine_, wait));
        }
        co_await keel_test::concurrently(std::move(sessions));
    });
    releaser.join();
    EXPECT_EQ(most_waiting, 5) << "the statements did not wait at the same time";
    EXPECT_EQ(engine_->status().created, 5u);
}

// Waiters for a connection hold no thread, and are served in the order they came.
TEST_F(AwaitedSession, WaitersOnOneThreadAreServedFirstComeFirstServed) {
    options_.pool_size = 1;
    engine_ = std::make_unique<keel::engine>(options_);
    std::vector<int> order;
    run([&]() -> keel::task<void> {
        std::vector<keel::task<void>> work;
        for (int i = 0; i < 4; ++i) {
            work.push_back([](keel::engine& e, int n, std::vector<int>& served) -> keel::task<void> {
                keel::async_session s(e);
                co_await s.exec("SELECT pg_sleep(0.05)");
                served.push_back(n);
                co_await s.commit();
            }(*engine_, i, order));
        }
        co_await keel_test::concurrently(std::move(work));
    });
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
    EXPECT_EQ(engine_->status().created, 1u);
}

TEST_F(AwaitedSession, AStatementIsRefusedOutsideAnEventLoop) {
    keel::async_session s(*engine_);
    // Driven by hand, without sync_wait or a server: there is no loop to wait on.
    std::exception_ptr failure;
    keel::detail::start_detached(s.exec("SELECT 1"),
                                 [&](std::optional<keel::result>, std::exception_ptr e) { failure = e; });
    ASSERT_TRUE(failure);
    try {
        std::rethrow_exception(failure);
    } catch (const std::logic_error& e) {
        EXPECT_NE(std::string(e.what()).find("sync_wait"), std::string::npos) << e.what();
    }
    EXPECT_EQ(engine_->status().checked_out, 0u);
}

TEST_F(AwaitedSession, TheBlockingSessionRefusesToRunOnTheLoop) {
    run([&]() -> keel::task<void> {
        keel::session blocking(*engine_);
        EXPECT_THROW(blocking.exec("SELECT 1"), std::logic_error);  // it would stall the loop
        co_return;
    });
}

TEST_F(AwaitedSession, AFactoryOpensAwaitedSessionsWithItsDefaults) {
    keel::session_factory factory(*engine_, {.read_only = true});
    run([&]() -> keel::task<void> {
        auto s = factory.open_async();
        EXPECT_EQ(co_await s.scalar<std::string>("SHOW transaction_read_only"), "on");
        EXPECT_TRUE(co_await throws<keel::database_error>(s.exec(insert_sql(), "ro@x", nullptr)));
        co_await s.rollback();
    });
}

TEST_F(AwaitedSession, TransactionCommitsWhatItsWorkDidAndRollsBackWhatThrew) {
    run([&]() -> keel::task<void> {
        keel::async_session s(*engine_);
        const auto id = co_await s.transaction([&]() -> keel::task<std::int64_t> {
            co_return co_await s.scalar<std::int64_t>(insert_sql(), "t@x", nullptr);
        });
        EXPECT_GT(id, 0);
        EXPECT_TRUE(co_await throws<std::runtime_error>(s.transaction([&]() -> keel::task<void> {
            co_await s.exec(insert_sql(), "u@x", nullptr);
            throw std::runtime_error("no");
        })));
        co_await s.commit();
    });
    EXPECT_EQ(count(), 1);
}

// What the server says on the side (RAISE NOTICE, a WARNING) is logged through the app's
// logger, naming the request whose statement caused it.
TEST_F(AwaitedSession, NoticesGoToTheAppsLogWithTheRequest) {
    keel_test::captured_log log;
    keel::app app;
    log.attach(app.logger());
    app.provide<keel::engine>(keel::scope::app, [this] { return std::make_shared<keel::engine>(options_); });
    app.provide<keel::session_factory>(keel::scope::app,
                                       [](keel::engine& e) { return keel::session_factory{e}; });
    app.get("/notice", [](keel::depends<keel::get_async_session> db) -> keel::task<int> {
        co_await db->exec("DO $$ BEGIN RAISE NOTICE 'counted % rows', 3; RAISE WARNING 'careful'; END $$");
        co_return 1;
    });
    {
        keel::testing::client c{app};
        EXPECT_EQ(c.get("/notice").status(), 200);
    }
    EXPECT_TRUE(log.contains("postgres: counted 3 rows")) << ::testing::PrintToString(log.lines());
    EXPECT_TRUE(log.contains("postgres: careful"));
    EXPECT_TRUE(log.contains("route=/notice"));
}

// Four threads, each running eight sessions at once on its own loop, share a pool of three:
// connections pass between threads and loops all the time (a waiter on one loop is handed a
// connection returned on another). Money only moves, rows only appear with their transfer, and
// every connection comes back. Under TSan (scripts/test) this is the awaited session's race test.
TEST_F(AwaitedSession, ManyLoopsShareOnePool) {
    const std::string accounts = table_ + "_accounts";
    admin("DROP TABLE IF EXISTS " + accounts);
    admin("CREATE TABLE " + accounts + " (id int PRIMARY KEY, balance bigint NOT NULL CHECK (balance >= 0))");
    admin("INSERT INTO " + accounts + " SELECT g, 100 FROM generate_series(1, 5) g");
    const std::string lock_sql =
        "SELECT balance FROM " + accounts + " WHERE id IN ($1, $2) ORDER BY id FOR UPDATE";
    const std::string move_sql = "UPDATE " + accounts +
                                 " SET balance = balance + CASE WHEN id = $1 THEN -$3::bigint ELSE "
                                 "$3::bigint END WHERE id IN ($1, $2)";
    constexpr int threads = 4, sessions_per_thread = 8, transfers_each = 6;
    std::atomic<int> written{0}, refused{0};
    const auto transfers = [&](int t, int s) -> keel::task<void> {
        for (int i = 0; i < transfers_each; ++i) {
            const int from = (t + s + i) % 5 + 1, to = (t + 2 * s + i + 1) % 5 + 1;
            keel::async_session db(*engine_);
            try {
                co_await db.exec(
                    insert_sql(),
                    "a" + std::to_string(t) + "-" + std::to_string(s) + "-" + std::to_string(i) + "@x",
                    nullptr);
                if (from != to) {
                    co_await db.exec(lock_sql, from, to);
                    co_await db.exec(move_sql, from, to, 7);
                }
                co_await db.commit();
                ++written;
                continue;
            } catch (const keel::check_violation&) {
                ++refused;  // the account would go below 0
            } catch (const keel::transaction_conflict&) {
                ++refused;  // a deadlock: rolled back as a whole
            }
            co_await db.rollback();
        }
    };
    std::vector<std::thread> loops;
    for (int t = 0; t < threads; ++t) {
        loops.emplace_back([&, t] {
            keel::sync_wait([&]() -> keel::task<void> {
                std::vector<keel::task<void>> work;
                for (int s = 0; s < sessions_per_thread; ++s) work.push_back(transfers(t, s));
                co_await keel_test::concurrently(std::move(work));
            }());
        });
    }
    for (auto& l : loops) l.join();
    pqxx::connection c(postgres_environment::server().url());
    pqxx::nontransaction check(c);
    EXPECT_EQ(check.exec1("SELECT sum(balance) FROM " + accounts)[0].as<long>(), 500);
    EXPECT_EQ(check.exec1("SELECT count(*) FROM " + table_)[0].as<long>(), written.load());
    EXPECT_EQ(written + refused, threads * sessions_per_thread * transfers_each);
    EXPECT_EQ(engine_->status().checked_out, 0u);
    EXPECT_LE(engine_->status().created, 3u);
}
