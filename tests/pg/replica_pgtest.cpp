// Read replicas: read-only sessions on a real streaming replica (pg_basebackup -R), the
// read-your-writes token, and falling back to the primary when a replica is down or lagging.
#include <gtest/gtest.h>
#include <keel/keel.hpp>
#include <keel/sync_wait.hpp>
#include <keel/testing/client.hpp>
#include <keel/testing/http_client.hpp>
#include <keel/testing/live_server.hpp>
#include <keel/testing/postgres_server.hpp>

#include "../support/backend_watch.hpp"
#include "../support/metrics_page.hpp"

#include <pqxx/pqxx>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

namespace {

using namespace std::chrono_literals;
using keel::testing::postgres_server;

// A primary of the tests' own (a replica needs one this process started), a replica that
// follows it closely, and one whose replay of each commit is held back 5 s.
struct cluster {
    postgres_server primary{postgres_server::source::always_private};
    postgres_server replica;
    postgres_server delayed;
    cluster() {
        primary.start();
        pqxx::connection c(primary.url());
        pqxx::nontransaction(c).exec("CREATE TABLE notes (id bigserial PRIMARY KEY, text text NOT NULL)");
        replica.start_as_replica_of(primary);
        delayed.start_as_replica_of(primary, 5s);
    }
};

cluster& servers() {
    static cluster c;
    return c;
}

bool in_recovery(const std::string& url) {
    pqxx::connection c(url);
    return pqxx::nontransaction(c).exec1("SELECT pg_is_in_recovery()")[0].as<bool>();
}

// Blocks until `condition()` or `timeout`; returns the condition's last value.
template <class F>
bool eventually(F condition, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!condition()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(20ms);
    }
    return true;
}

// Pauses a replica's replay while it lives (or until resume()): the replica falls behind.
class paused_replay {
public:
    explicit paused_replay(const postgres_server& replica) : connection_(replica.url()) {
        pqxx::nontransaction(connection_).exec("SELECT pg_wal_replay_pause()");
    }
    ~paused_replay() {
        try {
            resume();
        } catch (const std::exception&) {  // the replica is gone: nothing to resume
        }
    }
    paused_replay(const paused_replay&) = delete;
    paused_replay& operator=(const paused_replay&) = delete;
    void resume() { pqxx::nontransaction(connection_).exec("SELECT pg_wal_replay_resume()"); }

private:
    pqxx::connection connection_;
};

keel::engine_options options_with(const postgres_server& replica) {
    keel::engine_options o;
    o.url = servers().primary.url();
    o.replica_urls = {replica.url()};
    o.pool_size = 2;
    o.replica_check_interval = 50ms;
    o.max_replica_lag = 30s;  // the delayed replica stays in use: its reads are stale on purpose
    o.read_your_writes_wait = 2s;
    return o;
}

// Waits until the engine's monitor has found the replica fit (its first check).
void wait_for_replica(keel::engine& e) {
    ASSERT_TRUE(eventually(
        [&] {
            keel::session s(e, {.read_only = true});
            return s.scalar<bool>("SELECT pg_is_in_recovery()");
        },
        10s));
}

TEST(Replicas, TheReplicaIsAStreamingHotStandby) {
    EXPECT_FALSE(in_recovery(servers().primary.url()));
    EXPECT_TRUE(in_recovery(servers().replica.url()));
    EXPECT_TRUE(in_recovery(servers().delayed.url()));
}

TEST(Replicas, ReadOnlySessionsGoToTheReplicaAndTheRestToThePrimary) {
    keel::engine e(options_with(servers().replica));
    wait_for_replica(e);
    {
        keel::session reads(e, {.read_only = true});
        EXPECT_TRUE(reads.scalar<bool>("SELECT pg_is_in_recovery()"));
        EXPECT_THROW(reads.exec("INSERT INTO notes (text) VALUES ('no')"), keel::database_error);
    }
    keel::session writes(e);
    EXPECT_FALSE(writes.scalar<bool>("SELECT pg_is_in_recovery()"));
    keel::sync_wait([&]() -> keel::task<void> {
        auto awaited = keel::session_factory{e}.open_async({.read_only = true});
        EXPECT_TRUE(co_await awaited.scalar<bool>("SELECT pg_is_in_recovery()"));
        co_await awaited.commit();
        auto autocommit = keel::session_factory{e}.open_async({.read_only = true, .autocommit = true});
        EXPECT_TRUE(co_await autocommit.scalar<bool>("SELECT pg_is_in_recovery()"));
        co_await autocommit.commit();
    }());
    keel::session autocommit(e, {.read_only = true, .autocommit = true});
    EXPECT_TRUE(autocommit.scalar<bool>("SELECT pg_is_in_recovery()"));
    // SERIALIZABLE is refused by a hot standby: such a read stays on the primary.
    keel::session serializable(e, {.isolation = keel::isolation::serializable, .read_only = true});
    EXPECT_FALSE(serializable.scalar<bool>("SELECT pg_is_in_recovery()"));
}

// A small service: writes on the primary, reads in read-only sessions; each answer says where
// it was read.
struct replica_notes_service {
    explicit replica_notes_service(keel::engine_options o) {
        app.provide<keel::engine>(keel::scope::app, [o] { return std::make_shared<keel::engine>(o); });
        app.provide<keel::session_factory>(keel::scope::app,
                                           [](keel::engine& e) { return keel::session_factory{e}; });
        app.post("/notes", [](keel::query<std::string, "text"> text, keel::depends<keel::get_session> db) {
            return nlohmann::json{
                {"id", db->scalar<std::int64_t>("INSERT INTO notes (text) VALUES ($1) RETURNING id", *text)}};
        });
        app.get("/notes/{id}",
                [](keel::path<std::int64_t, "id"> id, keel::depends<keel::get_read_only_session> db) {
                    const auto found = db->first<std::string>("SELECT text FROM notes WHERE id = $1", *id);
                    return nlohmann::json{{"found", found.has_value()},
                                          {"replica", db->scalar<bool>("SELECT pg_is_in_recovery()")}};
                });
        app.get("/awaited/notes/{id}",
                [](keel::path<std::int64_t, "id"> id,
                   keel::depends<keel::get_read_only_async_session> db) -> keel::task<nlohmann::json> {
                    const auto found =
                        co_await db->first<std::string>("SELECT text FROM notes WHERE id = $1", *id);
                    const bool replica = co_await db->scalar<bool>("SELECT pg_is_in_recovery()");
                    nlohmann::json answer;
                    answer["found"] = found.has_value();
                    answer["replica"] = replica;
                    co_return answer;
                });
    }
    keel::app app;
};

// A client that wrote and reads back at once sees its write, even through a replica whose
// replay is held back 5 s: its token sends the read to the primary after the bounded wait. A
// client without the token reads the replica's older state.
TEST(Replicas, AClientReadsItsOwnWritesEvenFromALaggingReplica) {
    auto o = options_with(servers().delayed);
    o.read_your_writes_wait = 200ms;
    replica_notes_service service(o);
    keel::testing::client client(service.app);
    ASSERT_TRUE(eventually([&] { return client.get("/notes/0").json()["replica"] == true; }, 10s));
    for (const char* route : {"/notes/", "/awaited/notes/"}) {
        const auto created = client.post("/notes?text=mine", nullptr);
        ASSERT_EQ(created.status(), 200) << created;
        const auto token = created.header("Keel-Read-After");
        ASSERT_TRUE(token.has_value()) << created;
        EXPECT_NE(created.header("Set-Cookie").value_or("").find("keel_read_after=" + std::string(*token)),
                  std::string::npos)
            << created;
        const auto id = std::to_string(created.json()["id"].get<std::int64_t>());

        keel::header_map with_token;
        with_token.add("Keel-Read-After", std::string(*token));
        const auto mine = client.send(keel::method::get, route + id, {}, with_token);
        EXPECT_EQ(mine.json()["found"], true) << route << mine;
        EXPECT_EQ(mine.json()["replica"], false) << route << mine;  // the replica is 5 s behind

        keel::header_map with_cookie;
        with_cookie.add("Cookie", "theme=dark; keel_read_after=" + std::string(*token));
        EXPECT_EQ(client.send(keel::method::get, route + id, {}, with_cookie).json()["found"], true) << route;

        const auto anyone = client.get(route + id);  // no token: the replica's state, 5 s old
        EXPECT_EQ(anyone.json()["found"], false) << route << anyone;
        EXPECT_EQ(anyone.json()["replica"], true) << route << anyone;
    }
}

// With a replica that keeps up, the token's read waits the few milliseconds replication takes
// and is served by the replica.
TEST(Replicas, ATokenWaitsForAReplicaThatCatchesUp) {
    replica_notes_service service(options_with(servers().replica));
    keel::testing::client client(service.app);
    ASSERT_TRUE(eventually([&] { return client.get("/notes/0").json()["replica"] == true; }, 10s));
    for (int i = 0; i < 10; ++i) {
        const auto created = client.post("/notes?text=soon", nullptr);
        keel::header_map with_token;
        with_token.add("Keel-Read-After", std::string(created.header("Keel-Read-After").value_or("")));
        const auto id = std::to_string(created.json()["id"].get<std::int64_t>());
        const auto mine =
            client.send(keel::method::get, (i % 2 ? "/awaited/notes/" : "/notes/") + id, {}, with_token);
        EXPECT_EQ(mine.json()["found"], true) << mine;
        EXPECT_EQ(mine.json()["replica"], true) << mine;
    }
    // A token that is not a WAL position is ignored (the read is served as without one).
    keel::header_map junk;
    junk.add("Keel-Read-After", "not/a/position");
    EXPECT_EQ(client.send(keel::method::get, "/notes/1", {}, junk).status(), 200);
}

// A stopped replica: reads are answered by the primary meanwhile, and go back to the replica
// by themselves once it is up again.
TEST(Replicas, ReadsFallBackToThePrimaryWhileTheReplicaIsDownAndReturn) {
    keel::engine e(options_with(servers().replica));
    wait_for_replica(e);
    servers().replica.halt();
    struct start_again_on_exit {
        bool halted = true;
        ~start_again_on_exit() {
            if (halted) servers().replica.start_again();
        }
    } guard;
    for (int i = 0; i < 20; ++i) {
        keel::session s(e, {.read_only = true});
        EXPECT_FALSE(s.scalar<bool>("SELECT pg_is_in_recovery()"));  // never an error
    }
    servers().replica.start_again();
    guard.halted = false;
    EXPECT_TRUE(eventually(
        [&] {
            keel::session s(e, {.read_only = true});
            return s.scalar<bool>("SELECT pg_is_in_recovery()");
        },
        20s));
}

// A replica that goes away under a read costs the read nothing: a read-only READ COMMITTED
// session whose replica connection is lost runs the statement again on the primary (nothing it
// saw depends on the replica's transaction), and its COMMIT, with nothing to commit, succeeds.
TEST(Replicas, AReadWhoseReplicaConnectionIsLostRunsAgainOnThePrimary) {
    keel::engine e(options_with(servers().replica));
    wait_for_replica(e);
    {
        keel::session s(e, {.read_only = true});
        auto killer = keel_test::terminate_when_sleeping(servers().replica.url(), "blocking_marker");
        EXPECT_EQ(s.scalar<int>("SELECT 1 FROM pg_sleep(1) -- blocking_marker"), 1);
        killer.join();
        EXPECT_FALSE(s.scalar<bool>("SELECT pg_is_in_recovery()"));  // the rest of it on the primary
        EXPECT_NO_THROW(s.commit());
    }
    wait_for_replica(e);  // the replica serves reads again
    ASSERT_FALSE(HasFatalFailure());
    keel::sync_wait([&]() -> keel::task<void> {
        auto s = keel::session_factory{e}.open_async({.read_only = true});
        auto killer = keel_test::terminate_when_sleeping(servers().replica.url(), "awaited_marker");
        EXPECT_EQ(co_await s.scalar<int>("SELECT 1 FROM pg_sleep(1) -- awaited_marker"), 1);
        killer.join();
        EXPECT_FALSE(co_await s.scalar<bool>("SELECT pg_is_in_recovery()"));
        co_await s.commit();
    }());
    // An autocommit read is a transaction of its own: it runs again on the primary too.
    wait_for_replica(e);  // the replica serves reads again
    ASSERT_FALSE(HasFatalFailure());
    keel::sync_wait([&]() -> keel::task<void> {
        auto s = keel::session_factory{e}.open_async({.read_only = true, .autocommit = true});
        auto killer = keel_test::terminate_when_sleeping(servers().replica.url(), "autocommit_marker");
        EXPECT_EQ(co_await s.scalar<int>("SELECT 1 FROM pg_sleep(1) -- autocommit_marker"), 1);
        killer.join();
        co_await s.commit();
    }());
    // REPEATABLE READ after a first read: its snapshot was the replica's, so the loss is the
    // request's (503), never a silent switch to another snapshot.
    wait_for_replica(e);  // the replica serves reads again
    ASSERT_FALSE(HasFatalFailure());
    keel::session snapshot(e, {.isolation = keel::isolation::repeatable_read, .read_only = true});
    EXPECT_TRUE(snapshot.scalar<bool>("SELECT pg_is_in_recovery()"));
    auto killer = keel_test::terminate_when_sleeping(servers().replica.url(), "snapshot_marker");
    EXPECT_THROW(snapshot.exec("SELECT pg_sleep(1) -- snapshot_marker"), keel::connection_lost);
    killer.join();
}

// A read-only transaction has nothing to commit: when its connection dies after its reads, the
// COMMIT still succeeds (what it read stands) and the connection is closed, not reused.
TEST(Replicas, AReadOnlyCommitOnALostConnectionSucceeds) {
    keel::engine_options o;
    o.url = servers().primary.url();
    o.pool_size = 1;
    keel::engine e(o);
    keel::session s(e, {.read_only = true});
    const auto pid = s.scalar<int>("SELECT pg_backend_pid()");
    {
        pqxx::connection c(servers().primary.url());
        pqxx::nontransaction(c).exec("SELECT pg_terminate_backend(" + std::to_string(pid) + ")");
    }
    std::this_thread::sleep_for(100ms);  // the backend's farewell reaches the socket
    EXPECT_NO_THROW(s.commit());
    keel::session next(e, {.read_only = true});
    EXPECT_NE(next.scalar<int>("SELECT pg_backend_pid()"), pid);
}

// A replica whose replay is paused falls behind while the primary writes: past max_replica_lag
// it is skipped, and used again once it has caught up.
TEST(Replicas, AReplicaLaggingMoreThanTheBoundIsSkippedUntilItCatchesUp) {
    auto o = options_with(servers().replica);
    o.max_replica_lag = 500ms;
    keel::engine e(o);
    wait_for_replica(e);
    paused_replay paused(servers().replica);
    const auto reads_replica = [&] {
        {
            keel::session w(e);
            w.exec("INSERT INTO notes (text) VALUES ('tick')");
            w.commit();
        }
        keel::session s(e, {.read_only = true});
        return s.scalar<bool>("SELECT pg_is_in_recovery()");
    };
    EXPECT_TRUE(eventually([&] { return !reads_replica(); }, 10s)) << "the paused replica was never skipped";
    paused.resume();
    EXPECT_TRUE(eventually(reads_replica, 10s)) << "the replica did not come back";
}

// The metrics page shows each replica's state and lag, the reads it took, and the reads sent to
// the primary instead, by reason.
TEST(Replicas, TheReplicasAreOnTheMetricsPage) {
    auto o = options_with(servers().replica);
    o.max_replica_lag = 500ms;
    replica_notes_service service(o);
    auto server_options = keel::testing::live_server::quiet_options();
    server_options.metrics_port = 0;
    keel::testing::live_server server(service.app, server_options);
    keel::testing::http_client http(server.port());
    const auto scrape = [&] {
        return keel::testing::http_client(server.server().metrics_port()).get("/metrics").text();
    };
    const auto url = servers().replica.url();  // postgresql://postgres@host:port/postgres
    const std::string label = "{replica=\"" + url.substr(url.find('@') + 1) + "\"}";
    ASSERT_TRUE(eventually([&] { return http.get("/notes/0").json()["replica"] == true; }, 10s));
    for (int i = 0; i < 5; ++i) EXPECT_EQ(http.get("/notes/0").json()["replica"], true);
    auto page = scrape();
    EXPECT_EQ(keel_test::sample(page, "keel_db_replica_usable" + label), 1) << page;
    EXPECT_GE(keel_test::sample(page, "keel_db_replica_reads_total" + label).value_or(0), 5) << page;
    EXPECT_GE(keel_test::sample(page, "keel_db_replica_lag_seconds" + label).value_or(-1), 0) << page;

    paused_replay paused(servers().replica);
    EXPECT_TRUE(eventually(
        [&] {
            http.post("/notes?text=tick", nullptr);
            return keel_test::sample(scrape(), "keel_db_replica_usable" + label) == 0;
        },
        10s));
    EXPECT_EQ(http.get("/notes/0").json()["replica"], false);
    page = scrape();
    EXPECT_GE(keel_test::sample(page, R"(keel_db_replica_fallbacks_total{reason="none_usable"})").value_or(0),
              1)
        << page;
    EXPECT_GT(keel_test::sample(page, "keel_db_replica_lag_seconds" + label).value_or(0), 0.5) << page;
}

}  // namespace
