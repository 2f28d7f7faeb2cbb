// The connection pool against a real PostgreSQL (the binary's throwaway server).
#include <keel/engine.hpp>

#include "db/pooled_connection.hpp"

#include <gtest/gtest.h>
#include <keel/database_error.hpp>
#include <keel/health.hpp>
#include <keel/pool_timeout.hpp>
#include <keel/session.hpp>
#include <keel/testing/postgres_environment.hpp>
#include <pqxx/pqxx>

#include <atomic>
#include <chrono>
#include <optional>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using keel::testing::postgres_environment;

namespace {
keel::engine_options small_pool(std::size_t size, std::size_t overflow,
                                std::chrono::milliseconds timeout = 300ms) {
    keel::engine_options o;
    o.url = postgres_environment::server().url();
    o.pool_size = size;
    o.max_overflow = overflow;
    o.pool_timeout = timeout;
    return o;
}

int backend_pid(keel::engine::lease& l) {
    return l.connection().connection->backendpid();
}

int select_one(keel::engine::lease& l) {
    pqxx::nontransaction tx(*l.connection().connection);
    return tx.exec1("SELECT 1")[0].as<int>();
}
}  // namespace

TEST(EngineTest, ReturnedConnectionsAreReused) {
    keel::engine engine(small_pool(2, 0));
    int first_pid = 0;
    {
        auto l = engine.checkout();
        first_pid = backend_pid(l);
        EXPECT_EQ(select_one(l), 1);
    }
    auto again = engine.checkout();
    EXPECT_EQ(backend_pid(again), first_pid);
    EXPECT_EQ(engine.status().created, 1u);
    EXPECT_EQ(engine.status().checked_out, 1u);
}

// A hang-up's cancel still under way when its statement ended (hangup_signal holds the
// connection's PGcancel while it cancels) could reach the next session's statement: such a
// connection is not handed out again. One whose cancel is done by then is.
TEST(EngineTest, AConnectionWithACancelUnderWayIsNotHandedOutAgain) {
    keel::engine engine(small_pool(2, 0));
    int first_pid = 0;
    std::shared_ptr<PGcancel> cancelling;  // what a cancel under way holds
    {
        auto l = engine.checkout();
        first_pid = backend_pid(l);
        cancelling = l.connection().cancel;
    }
    int second_pid = 0;
    {
        auto next = engine.checkout();
        second_pid = backend_pid(next);
        EXPECT_NE(second_pid, first_pid);
        EXPECT_EQ(engine.status().discarded, 1u);
        cancelling = next.connection().cancel;
    }
    cancelling.reset();  // this cancel is done before the next hand-out: the connection serves
    auto again = engine.checkout();
    EXPECT_EQ(backend_pid(again), second_pid);
    EXPECT_EQ(engine.status().discarded, 1u);
    EXPECT_EQ(engine.status().created, 2u);
}

TEST(EngineTest, ExhaustedPoolTimesOutAndServesAgainAfterwards) {
    keel::engine engine(small_pool(1, 1, 200ms));
    std::optional<keel::engine::lease> a(engine.checkout());
    auto b = engine.checkout();  // the overflow connection
    const auto start = std::chrono::steady_clock::now();
    try {
        engine.checkout();
        FAIL() << "a third connection was handed out";
    } catch (const keel::pool_timeout& e) {
        EXPECT_GE(e.waited(), 190ms);  // the 503 it becomes in a request is the pipeline's (threads_pgtest)
        EXPECT_GE(std::chrono::steady_clock::now() - start, 190ms);
    }
    EXPECT_EQ(engine.status().timeouts, 1u);
    a.reset();
    auto c = engine.checkout();  // the returned one serves at once
    EXPECT_EQ(select_one(c), 1);
}

TEST(EngineTest, OverflowConnectionsAreClosedWhenReturnedWithoutLinger) {
    auto options = small_pool(1, 2);
    options.overflow_linger = 0ms;  // SQLAlchemy's rule
    keel::engine engine(options);
    {
        auto a = engine.checkout();
        auto b = engine.checkout();
        auto c = engine.checkout();
        EXPECT_EQ(engine.status().overflow, 2u);
    }
    const auto st = engine.status();
    EXPECT_EQ(st.size, 1u);
    EXPECT_EQ(st.idle, 1u);
    EXPECT_EQ(st.overflow, 0u);
}

TEST(EngineTest, AnOverflowConnectionReturnedWhileThePoolIsBusyIsKept) {
    auto options = small_pool(1, 1);
    options.overflow_linger = 0ms;
    keel::engine engine(options);
    std::optional<keel::engine::lease> a(engine.checkout());
    std::optional<keel::engine::lease> b(engine.checkout());
    b.reset();  // nothing idle yet: kept for the next request, not closed and reopened
    EXPECT_EQ(engine.status().size, 2u);
    EXPECT_EQ(engine.status().idle, 1u);
    a.reset();  // now pool_size connections are idle: this one is surplus
    EXPECT_EQ(engine.status().size, 1u);
    EXPECT_EQ(engine.status().created, 2u);
}

// By default an overflow connection outlives its return for overflow_linger, so that a burst
// right after does not open it again; after that it is closed at the next return.
TEST(EngineTest, OverflowConnectionsLingerThenClose) {
    auto options = small_pool(1, 2);
    options.overflow_linger = 200ms;
    keel::engine engine(options);
    {
        auto a = engine.checkout();
        auto b = engine.checkout();
        auto c = engine.checkout();
    }
    EXPECT_EQ(engine.status().size, 3u);  // all three kept for now
    { auto again = engine.checkout(); }   // a burst soon after reuses one, opens nothing
    EXPECT_EQ(engine.status().created, 3u);
    std::this_thread::sleep_for(300ms);
    { auto later = engine.checkout(); }  // its return finds the other two unused for too long
    EXPECT_EQ(engine.status().size, 1u);
    EXPECT_EQ(engine.status().idle, 1u);
    EXPECT_EQ(engine.status().created, 3u);
}

TEST(EngineTest, ACheckoutMayWaitLessThanPoolTimeout) {
    keel::engine engine(small_pool(1, 0, 5s));
    auto held = engine.checkout();
    const auto start = std::chrono::steady_clock::now();
    EXPECT_THROW(engine.checkout(100ms), keel::pool_timeout);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);  // not the pool's 5 s
    keel::session_options quick;
    quick.pool_timeout = 100ms;
    keel::session s(engine, quick);
    const auto session_start = std::chrono::steady_clock::now();
    EXPECT_THROW(s.exec("SELECT 1"), keel::pool_timeout);
    EXPECT_LT(std::chrono::steady_clock::now() - session_start,
              2s);  // the session's 100 ms, not the pool's 5 s
}

namespace {
// Waits (10 s at most) until `condition()`; says whether it came true.
template <class F>
bool within_deadline(F condition) {
    const auto until = std::chrono::steady_clock::now() + 10s;
    while (!condition()) {
        if (std::chrono::steady_clock::now() > until) return false;
        std::this_thread::sleep_for(1ms);
    }
    return true;
}
}  // namespace

TEST(EngineTest, AWaiterIsHandedTheNextReturnedConnection) {
    keel::engine engine(small_pool(1, 0, 5s));
    std::optional<keel::engine::lease> held(engine.checkout());
    const int pid = backend_pid(*held);
    std::atomic<int> got{0};
    std::thread waiter([&] {
        auto l = engine.checkout();
        got = backend_pid(l);
    });
    EXPECT_TRUE(within_deadline([&] { return engine.status().waiting == 1; })) << "the waiter never waited";
    held.reset();
    waiter.join();
    EXPECT_EQ(got.load(), pid);
    EXPECT_EQ(engine.status().timeouts, 0u);
}

TEST(EngineTest, WaitersAreServedFirstComeFirstServed) {
    keel::engine engine(small_pool(1, 0, 10s));
    std::optional<keel::engine::lease> held(engine.checkout());
    std::vector<int> order;
    std::mutex order_mutex;
    std::vector<std::thread> waiters;
    for (int i = 0; i < 4; ++i) {
        waiters.emplace_back([&, i] {
            auto l = engine.checkout();
            std::lock_guard lock(order_mutex);
            order.push_back(i);
        });
        EXPECT_TRUE(within_deadline([&] {
            return engine.status().waiting == static_cast<std::size_t>(i + 1);
        })) << "waiter "
            << i << " never waited";
    }
    held.reset();
    for (auto& t : waiters) t.join();
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
}

TEST(EngineTest, ABrokenConnectionIsDiscardedAndReplaced) {
    auto options = small_pool(1, 0);
    options.pool_pre_ping = true;
    keel::engine engine(options);
    int pid = 0;
    {
        auto l = engine.checkout();
        pid = backend_pid(l);
    }
    {
        pqxx::connection admin(postgres_environment::server().url());
        pqxx::nontransaction(admin).exec("SELECT pg_terminate_backend(" + std::to_string(pid) + ")");
    }
    auto l = engine.checkout();  // the ping finds the dead one; a new one is opened
    EXPECT_NE(backend_pid(l), pid);
    EXPECT_EQ(select_one(l), 1);
    EXPECT_EQ(engine.status().discarded, 1u);
    EXPECT_EQ(engine.status().created, 2u);
}

TEST(EngineTest, AConnectionMarkedBrokenIsNotReused) {
    keel::engine engine(small_pool(1, 0));
    int pid = 0;
    {
        auto l = engine.checkout();
        pid = backend_pid(l);
        l.mark_broken();
    }
    auto l = engine.checkout();
    EXPECT_NE(backend_pid(l), pid);
    EXPECT_EQ(engine.status().discarded, 1u);
}

TEST(EngineTest, UnreachableServerFailsTheCheckoutAndFreesTheSlot) {
    keel::engine_options o;
    o.url = "postgresql://postgres@127.0.0.1:1/none";
    o.pool_size = 1;
    o.max_overflow = 0;
    keel::engine engine(o);
    EXPECT_THROW(engine.checkout(), keel::connection_lost);
    EXPECT_THROW(engine.checkout(), keel::connection_lost);  // not a pool_timeout: the slot came back
    EXPECT_EQ(engine.status().size, 0u);
}

TEST(EngineTest, DisposeWaitsForCheckedOutConnectionsThenClosesEverything) {
    keel::engine engine(small_pool(2, 0));
    std::optional<keel::engine::lease> out(engine.checkout());
    { auto idle = engine.checkout(); }
    std::atomic<bool> disposed{false};
    std::thread disposer([&] {
        engine.dispose(30s);
        disposed = true;
    });
    // Once disposing has begun, checkouts are refused; the checked-out connection still holds dispose().
    EXPECT_TRUE(within_deadline([&] {
        try {
            auto l = engine.checkout();
            return false;
        } catch (const keel::pool_timeout&) {
            return true;
        }
    })) << "checkouts were still served while disposing";
    std::this_thread::sleep_for(300ms);  // a dispose() that did not wait would have returned by now
    EXPECT_FALSE(disposed.load()) << "dispose() did not wait for the checked-out connection";
    const auto released = std::chrono::steady_clock::now();
    out.reset();  // the request finishes: dispose() returns well before its 30 s
    disposer.join();
    EXPECT_LT(std::chrono::steady_clock::now() - released, 5s) << "dispose() waited out its grace period";
    EXPECT_TRUE(disposed.load());
    EXPECT_EQ(engine.status().size, 0u);
    EXPECT_EQ(engine.status().checked_out, 0u);
}

TEST(EngineTest, ManyThreadsNeverGetMoreThanTheCapacity) {
    keel::engine engine(small_pool(3, 2, 10s));
    std::atomic<int> in_use{0}, most{0}, done{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 20; ++i) {
                auto l = engine.checkout();
                const int now = ++in_use;
                int seen = most.load();
                while (now > seen && !most.compare_exchange_weak(seen, now)) {
                }
                select_one(l);
                --in_use;
                ++done;
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(done.load(), 160);
    EXPECT_LE(most.load(), 5);
    EXPECT_LE(engine.status().size, 5u);
}

TEST(EngineTest, TheDatabaseReadinessCheckAnswersWithinItsTimeout) {
    keel::engine engine(small_pool(1, 0, 30s));
    const keel::database_check check{.timeout = 300ms};
    EXPECT_NO_THROW(check(engine));
    // With the only connection held, the check gives up after its own 300 ms, not the pool's 30 s.
    auto held = engine.checkout();
    const auto started = std::chrono::steady_clock::now();
    EXPECT_THROW(check(engine), keel::pool_timeout);
    const auto took = std::chrono::steady_clock::now() - started;
    EXPECT_GE(took, 250ms);
    EXPECT_LT(took, 5s) << "bounded by the check's timeout (generous: a loaded machine)";
}

// A database gone behind a dead network is noticed in seconds: every connection has TCP
// keepalives and a tcp_user_timeout, unless the URL says otherwise.
TEST(EngineTest, ConnectionsHaveKeepalivesUnlessTheUrlSetsThem) {
    const auto setting = [](const keel::engine::lease& l, const std::string& key) {
        std::string value;
        PQconninfoOption* options = PQconninfo(l.connection().handle);
        for (auto* o = options; o && o->keyword; ++o) {
            if (key == o->keyword && o->val) value = o->val;
        }
        PQconninfoFree(options);
        return value;
    };
    keel::engine defaults(small_pool(1, 0));
    const auto lease = defaults.checkout();
    EXPECT_EQ(setting(lease, "keepalives"), "1");
    EXPECT_EQ(setting(lease, "keepalives_idle"), "5");
    EXPECT_EQ(setting(lease, "keepalives_interval"), "2");
    EXPECT_EQ(setting(lease, "keepalives_count"), "3");
    EXPECT_EQ(setting(lease, "tcp_user_timeout"), "15000");

    auto own = small_pool(1, 0);
    own.url += own.url.find('?') == std::string::npos && own.url.rfind("postgres", 0) == 0
                   ? "?keepalives_idle=42"
                   : " keepalives_idle=42";
    keel::engine overridden(own);
    EXPECT_EQ(setting(overridden.checkout(), "keepalives_idle"), "42");
}
