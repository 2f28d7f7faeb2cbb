// How the pipeline answers database outcomes, against a real PostgreSQL: a connection lost
// before COMMIT was sent invites a retry (nothing was written); one lost during COMMIT never
// does (the write may have happened). Blocking session calls on an I/O thread fail at once.
#include <keel/app.hpp>

#include "../support/metrics_page.hpp"

#include <gtest/gtest.h>
#include <keel/database_error.hpp>
#include <keel/get_session.hpp>
#include <keel/model.hpp>
#include <keel/offload.hpp>
#include <keel/testing/client.hpp>
#include <keel/testing/http_client.hpp>
#include <keel/testing/live_server.hpp>
#include <keel/testing/postgres_environment.hpp>
#include <pqxx/pqxx>

#include <chrono>
#include <cmath>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using keel::testing::postgres_environment;
using namespace std::chrono_literals;

namespace {

void admin(const std::string& sql) {
    pqxx::connection c(postgres_environment::server().url());
    pqxx::nontransaction(c).exec(sql);
}

long scalar(const std::string& sql) {
    pqxx::connection c(postgres_environment::server().url());
    return pqxx::nontransaction(c).exec1(sql)[0].as<long>();
}

// Polls `sql` (a count) until it is at least 1; false at the deadline.
bool eventually(const std::string& sql, std::chrono::milliseconds deadline = 10s) {
    pqxx::connection c(postgres_environment::server().url());
    const auto until = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < until) {
        if (pqxx::nontransaction(c).exec1(sql)[0].as<long>() > 0) return true;
        std::this_thread::sleep_for(5ms);
    }
    return false;
}

// An app whose POST /rows inserts into `table` through get_session, and whose logger keeps
// every line.
class ErrorMappingTest : public ::testing::Test {
protected:
    ErrorMappingTest() {
        table_ = std::string("mapping_") + ::testing::UnitTest::GetInstance()->current_test_info()->name();
        admin("DROP TABLE IF EXISTS " + table_);
        admin("CREATE TABLE " + table_ + " (id bigserial PRIMARY KEY, note text NOT NULL)");
        keel::engine_options o;
        o.url = postgres_environment::server().url();
        o.pool_size = 2;
        o.pool_timeout = 2s;
        app_.provide<keel::engine>(keel::scope::app, [o] { return std::make_shared<keel::engine>(o); });
        app_.provide<keel::session_factory>(keel::scope::app,
                                            [](keel::engine& e) { return keel::session_factory{e}; });
        app_.serve_metrics("/metrics");
        app_.logger().set_sink([this](keel::log_level, std::string_view line) {
            std::lock_guard lock(log_mutex_);
            log_.emplace_back(line);
        });
    }
    ~ErrorMappingTest() override { admin("DROP TABLE IF EXISTS " + table_); }

    bool logged(std::string_view part) {
        std::lock_guard lock(log_mutex_);
        for (const auto& line : log_) {
            if (line.find(part) != std::string::npos) return true;
        }
        return false;
    }
    long rows() { return scalar("SELECT count(*) FROM " + table_); }

    keel::app app_;
    std::string table_;
    std::mutex log_mutex_;
    std::vector<std::string> log_;
};

// Terminates the one backend of `table`'s test that waits for advisory lock `lock_key`.
void terminate_the_waiter(long lock_key) {
    const auto waiting =
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = " +
        std::to_string(lock_key);
    ASSERT_TRUE(eventually(waiting)) << "the request never reached the lock";
    admin(
        "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND "
        "objid = " +
        std::to_string(lock_key));
}

// Sends POST /rows while the test holds advisory lock `lock_key`; the request's backend, once it
// waits for the lock, is terminated. Returns the answer.
keel::testing::test_response post_and_terminate_the_waiter(keel::testing::client& client, long lock_key) {
    pqxx::connection holder(postgres_environment::server().url());
    pqxx::work hold(holder);
    hold.exec("SELECT pg_advisory_xact_lock(" + std::to_string(lock_key) + ")");
    std::thread terminator([lock_key] { terminate_the_waiter(lock_key); });
    auto res = client.post("/rows", nullptr);
    terminator.join();
    hold.abort();
    return res;
}

}  // namespace

// A deferred constraint trigger runs inside COMMIT; making it wait for a lock the test holds
// pins the request in the middle of its COMMIT, where the test terminates its backend.
TEST_F(ErrorMappingTest, AConnectionLostDuringCommitIsAnsweredOutcomeUnknownNeverRetryAfter) {
    constexpr long lock_key = 7701;
    admin(
        "CREATE OR REPLACE FUNCTION keel_wait_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN PERFORM pg_advisory_xact_lock(" +
        std::to_string(lock_key) + "); RETURN NULL; END $$");
    admin("CREATE CONSTRAINT TRIGGER wait_at_commit AFTER INSERT ON " + table_ +
          " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION keel_wait_at_commit()");
    app_.post("/rows", [this](keel::depends<keel::get_session> db) {
        db->exec("INSERT INTO " + table_ + " (note) VALUES ('in doubt')");
        return "inserted";
    });

    keel::testing::client client(app_);
    const auto res = post_and_terminate_the_waiter(client, lock_key);

    EXPECT_EQ(res.status(), keel::status::internal_server_error) << res;
    EXPECT_FALSE(res.header("Retry-After")) << "a write that may have happened must not invite a retry";
    EXPECT_NE(res.body().find("outcome is unknown"), std::string::npos) << res.body();
    EXPECT_EQ(res.json()["request_id"], res.header("x-request-id").value_or("none"))
        << "for the user to quote";
    EXPECT_EQ(app_.error_counters().commit_outcome_unknown, 1u);
    // Counted on the metrics page too (the session counts it, however the request was driven).
    const auto page = client.get("/metrics").text();
    EXPECT_EQ(keel_test::sample(page, R"(keel_db_transactions_total{outcome="in_doubt"})"), 1) << page;
    EXPECT_EQ(keel_test::sample(page, R"(keel_db_transactions_total{outcome="committed"})"), 0);
    EXPECT_EQ(keel_test::sample(page, R"(keel_http_request_failures_total{kind="commit_outcome_unknown"})"),
              1);
    EXPECT_TRUE(logged("keel: commit outcome unknown in POST /rows: "));
    EXPECT_TRUE(logged(" method=POST route=/rows")) << "the line names the route";
    EXPECT_EQ(rows(), 0);  // here it did not commit; the client could not have known
}

// The backend dies while the handler still works: its next statement finds the connection
// gone, before any COMMIT. Nothing was written, so a retry is safe and invited.
TEST_F(ErrorMappingTest, AConnectionLostBeforeCommitIs503WithRetryAfter) {
    constexpr long lock_key = 7702;
    app_.post("/rows", [this](keel::depends<keel::get_session> db) {
        db->exec("INSERT INTO " + table_ + " (note) VALUES ('lost')");
        db->exec("SELECT pg_advisory_xact_lock(" + std::to_string(lock_key) +
                 ")");  // terminated while waiting here
        return "inserted";
    });
    keel::testing::client client(app_);
    const auto res = post_and_terminate_the_waiter(client, lock_key);

    EXPECT_EQ(res.status(), keel::status::service_unavailable) << res;
    EXPECT_EQ(res.header("Retry-After").value_or(""), "1");
    EXPECT_EQ(app_.error_counters().database_unavailable, 1u);
    EXPECT_EQ(app_.error_counters().commit_outcome_unknown, 0u);
    EXPECT_EQ(rows(), 0);
    EXPECT_EQ(client.post("/rows", nullptr).status(), keel::status::ok)
        << "the dead connection was not replaced";
    EXPECT_EQ(rows(), 1);
}

// The backend dies after the handler's last statement, while nothing is in flight: the
// session notices before it sends COMMIT, so the answer is the safe 503, not "unknown".
TEST_F(ErrorMappingTest, AConnectionFoundDeadBeforeCommitIs503NotOutcomeUnknown) {
    app_.post("/rows", [this](keel::depends<keel::get_session> db) {
        const auto pid =
            db->scalar<long>("INSERT INTO " + table_ + " (note) VALUES ('x') RETURNING pg_backend_pid()");
        admin("SELECT pg_terminate_backend(" + std::to_string(pid) + ")");
        const auto until = std::chrono::steady_clock::now() + 10s;  // the backend is gone once pg says so
        while (scalar("SELECT count(*) FROM pg_stat_activity WHERE pid = " + std::to_string(pid)) > 0 &&
               std::chrono::steady_clock::now() < until) {
            std::this_thread::sleep_for(5ms);
        }
        return "inserted";
    });
    keel::testing::client client(app_);
    const auto res = client.post("/rows", nullptr);
    EXPECT_EQ(res.status(), keel::status::service_unavailable) << res;
    EXPECT_EQ(res.header("Retry-After").value_or(""), "1");
    EXPECT_EQ(rows(), 0);
}

// --------------------------------------------------------------------- parameters lose nothing

TEST_F(ErrorMappingTest, FloatingPointParametersRoundTripExactly) {
    app_.get("/echo", [](keel::query<double, "x"> x, keel::depends<keel::get_session> db) {
        return db->scalar<double>("SELECT $1::float8", *x);
    });
    keel::testing::client client(app_);
    for (const double x : {1e-9, 0.1, 1.0 / 3.0, 1e300, -2.5e-308, 123456789.123456789}) {
        keel::engine_options o;
        o.url = postgres_environment::server().url();
        keel::engine engine(o);
        keel::session db(engine);
        EXPECT_EQ(db.scalar<double>("SELECT $1::float8", x), x);
        EXPECT_EQ(db.scalar<std::string>("SELECT ($1::float8 = $2::float8)::text", x, x), "true");
        EXPECT_EQ(db.scalar<float>("SELECT $1::float4", static_cast<float>(x == 1e300 ? 3.5 : x)),
                  static_cast<float>(x == 1e300 ? 3.5 : x));
    }
    keel::engine_options o;
    o.url = postgres_environment::server().url();
    keel::engine engine(o);
    keel::session db(engine);
    EXPECT_TRUE(std::isinf(db.scalar<double>("SELECT $1::float8", HUGE_VAL)));
    EXPECT_TRUE(std::isnan(db.scalar<double>("SELECT $1::float8", std::nan(""))));
    EXPECT_EQ(client.get("/echo?x=1e-9").body(), "1e-09");
}

TEST_F(ErrorMappingTest, AParameterWithANulIsRefusedNeverCut) {
    keel::engine_options o;
    o.url = postgres_environment::server().url();
    keel::engine engine(o);
    keel::session db(engine);
    const std::string with_nul("before\0after", 12);
    try {
        db.exec("INSERT INTO " + table_ + " (note) VALUES ($1)", with_nul);
        FAIL() << "a NUL byte was accepted";
    } catch (const keel::database_error& e) {
        EXPECT_EQ(e.sqlstate(), "22021");
        EXPECT_NE(std::string(e.what()).find("$1"), std::string::npos) << e.what();
    }
    db.rollback();
    EXPECT_EQ(rows(), 0);
}

struct note {
    std::string text;
    KEEL_MODEL(note, text)
};

TEST_F(ErrorMappingTest, ANulInAnyRequestValueIsA422NamingTheFieldAndNothingIsStored) {
    app_.post("/notes/{tag}",
              [this](keel::path<std::string, "tag"> tag, keel::query<std::optional<std::string>, "q"> q,
                     keel::header<std::optional<std::string>, "x-who"> who, keel::body<note> in,
                     keel::depends<keel::get_session> db) {
                  db->exec("INSERT INTO " + table_ + " (note) VALUES ($1)",
                           *tag + q->value_or("") + who->value_or("") + in->text);
                  return "stored";
              });
    keel::testing::client client(app_);
    const auto expect_422 = [&](const keel::testing::test_response& res, const std::string& loc) {
        EXPECT_EQ(res.status(), keel::status::unprocessable_entity) << res;
        EXPECT_NE(res.body().find(loc), std::string::npos) << loc << " in " << res.body();
        EXPECT_NE(res.body().find("value_error.nul"), std::string::npos) << res.body();
    };
    expect_422(client.post("/notes/a%00b", nlohmann::json{{"text", "t"}}), R"(["path","tag"])");
    expect_422(client.post("/notes/a?q=x%00y", nlohmann::json{{"text", "t"}}), R"(["query","q"])");
    expect_422(client.send(keel::method::post, "/notes/a", R"({"text": "t"})",
                           {{"Content-Type", "application/json"}, {"x-who", std::string("a\0b", 3)}}),
               R"(["header","x-who"])");
    expect_422(client.post("/notes/a", nlohmann::json{{"text", std::string("a\0b", 3)}}),
               R"(["body","text"])");
    EXPECT_EQ(rows(), 0);
    EXPECT_EQ(client.post("/notes/a", nlohmann::json{{"text", "fine"}}).status(), keel::status::ok);
    EXPECT_EQ(rows(), 1);
}

// ------------------------------------------------------------------- blocking on an I/O thread

TEST_F(ErrorMappingTest, ACoroutineHandlerThatQueriesWithoutOffloadFailsAtOnceNamingTheFix) {
    app_.get("/blocking", [](keel::session_factory& sessions) -> keel::task<long> {
        auto db = sessions.open();
        co_return db.scalar<long>("SELECT 1");  // on the I/O thread: refused
    });
    app_.get("/offloaded", [](keel::session_factory& sessions) -> keel::task<long> {
        co_return co_await keel::offload([&] {
            auto db = sessions.open();
            return db.scalar<long>("SELECT 1");
        });
    });
    keel::testing::live_server server(app_);
    keel::testing::http_client http(server.port(), 10s);
    EXPECT_EQ(http.get("/blocking").status(), keel::status::internal_server_error);
    EXPECT_TRUE(logged("keel::session::exec blocks, and this is an I/O thread"));
    EXPECT_TRUE(logged("keel::offload"));
    EXPECT_EQ(http.get("/offloaded").body(), "1");

    keel::testing::client in_process(app_);  // the same rule in-process, as in production
    EXPECT_EQ(in_process.get("/blocking").status(), keel::status::internal_server_error);
    EXPECT_EQ(in_process.get("/offloaded").body(), "1");
}
