// What keel's database layer costs on top of libpqxx, and what each test isolation mode costs
// per test. Starts a throwaway PostgreSQL (or uses KEEL_TEST_DATABASE_URL) over loopback TCP.
//
//   build/release/bench/keel_database_bench --benchmark_repetitions=3
#include "../../tests/support/concurrently.hpp"

#include <benchmark/benchmark.h>
#include <keel/async_session.hpp>
#include <keel/bytes.hpp>
#include <keel/chrono.hpp>
#include <keel/decimal.hpp>
#include <keel/model.hpp>
#include <keel/session.hpp>
#include <keel/sync_wait.hpp>
#include <keel/testing/database_template.hpp>
#include <keel/testing/isolated_database.hpp>
#include <keel/testing/postgres_server.hpp>
#include <keel/uuid.hpp>
#include <pqxx/pqxx>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace {

constexpr const char* schema =
    "CREATE TABLE IF NOT EXISTS users (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, name text NOT "
    "NULL);"
    "INSERT INTO users (email, name) SELECT 'user' || i || '@example.com', 'User ' || i FROM "
    "generate_series(1, 1000) i "
    "ON CONFLICT DO NOTHING;"
    // One column of each of keel's types (issue #12), 100 rows.
    "CREATE TABLE IF NOT EXISTS typed (id bigint PRIMARY KEY, key uuid NOT NULL, created_at timestamptz NOT "
    "NULL, "
    "day date NOT NULL, price numeric(12,2) NOT NULL, tags text[] NOT NULL, payload bytea NOT NULL);"
    "INSERT INTO typed SELECT i, gen_random_uuid(), now() - i * interval '1 hour', current_date - i, i * "
    "1.25, "
    "ARRAY['a' || i, 'b'], decode(md5(i::text), 'hex') FROM generate_series(1, 100) i ON CONFLICT DO "
    "NOTHING;";

struct user {
    std::int64_t id;
    std::string email;
    std::string name;
    KEEL_MODEL(user, id, email, name)
};

struct typed_row {
    std::int64_t id;
    keel::uuid key;
    std::chrono::sys_time<std::chrono::microseconds> created_at;
    std::chrono::year_month_day day;
    keel::decimal price;
    std::vector<std::string> tags;
    keel::bytes payload;
    KEEL_MODEL(typed_row, id, key, created_at, day, price, tags, payload)
};

// The same columns as text: what a service without typed columns would read.
struct text_row {
    std::string id, key, created_at, day, price, tags, payload;
    KEEL_MODEL(text_row, id, key, created_at, day, price, tags, payload)
};

keel::testing::postgres_server& server() {
    static keel::testing::postgres_server s;
    static const bool started = [] {
        s.start();
        pqxx::connection c(s.url());
        pqxx::nontransaction(c).exec(schema);
        return true;
    }();
    (void)started;
    return s;
}

keel::engine_options pool_of(std::size_t size) {
    keel::engine_options o;
    o.url = server().url();
    o.pool_size = size;
    o.max_overflow = 0;
    return o;
}

keel::engine& bench_engine() {
    static keel::engine e(pool_of(1));
    return e;
}

// For the rows with 15 transactions at once (pgbench's c=15 in bench/run).
keel::engine& engine_of_15() {
    static keel::engine e(pool_of(15));
    return e;
}

// The floor: the same three statements on a bare connection, the SELECT prepared.
void bare_pqxx_begin_select_commit(benchmark::State& state) {
    pqxx::connection c(server().url());
    c.prepare("by_id", "SELECT id, email, name FROM users WHERE id = $1");
    std::int64_t id = 0;
    for (auto _ : state) {
        pqxx::work tx(c);
        const auto r = tx.exec_prepared("by_id", id % 1000 + 1);
        user u{r[0][0].as<std::int64_t>(), r[0][1].as<std::string>(), r[0][2].as<std::string>()};
        tx.commit();
        benchmark::DoNotOptimize(u);
        ++id;
    }
}
BENCHMARK(bare_pqxx_begin_select_commit)->Unit(benchmark::kMicrosecond);

// The same through a keel session: checkout from the pool, lazy BEGIN, prepared statement
// reuse, row mapping by column name, COMMIT, the connection returned.
void keel_session_begin_select_commit(benchmark::State& state) {
    keel::session_factory sessions(bench_engine());
    std::int64_t id = 0;
    for (auto _ : state) {
        auto s = sessions.open();
        auto u = s.one<user>("SELECT id, email, name FROM users WHERE id = $1", id % 1000 + 1);
        s.commit();
        benchmark::DoNotOptimize(u);
        ++id;
    }
}
BENCHMARK(keel_session_begin_select_commit)->Unit(benchmark::kMicrosecond);

// The same through the awaited session, on an event loop of the benchmark thread's own.
void keel_async_session_begin_select_commit(benchmark::State& state) {
    keel::session_factory sessions(bench_engine());
    keel::sync_wait([&]() -> keel::task<void> {
        std::int64_t id = 0;
        for (auto _ : state) {
            auto s = sessions.open_async();
            auto u = co_await s.one<user>("SELECT id, email, name FROM users WHERE id = $1", id % 1000 + 1);
            co_await s.commit();
            benchmark::DoNotOptimize(u);
            ++id;
        }
    }());
}
BENCHMARK(keel_async_session_begin_select_commit)->Unit(benchmark::kMicrosecond);

// Fifteen transactions at once, the same one each: on fifteen bare connections and threads, on
// keel's blocking session from fifteen threads, and on the awaited session as fifteen
// coroutines of one thread. items_per_second is transactions per second.
void bare_pqxx_15_threads(benchmark::State& state) {
    pqxx::connection c(server().url());
    c.prepare("by_id", "SELECT id, email, name FROM users WHERE id = $1");
    std::int64_t id = state.thread_index();
    for (auto _ : state) {
        pqxx::work tx(c);
        benchmark::DoNotOptimize(tx.exec_prepared("by_id", id % 1000 + 1));
        tx.commit();
        id += 15;
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(bare_pqxx_15_threads)->Threads(15)->UseRealTime()->Unit(benchmark::kMicrosecond);

void keel_session_15_threads(benchmark::State& state) {
    keel::session_factory sessions(engine_of_15());
    std::int64_t id = state.thread_index();
    for (auto _ : state) {
        auto s = sessions.open();
        benchmark::DoNotOptimize(
            s.one<user>("SELECT id, email, name FROM users WHERE id = $1", id % 1000 + 1));
        s.commit();
        id += 15;
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(keel_session_15_threads)->Threads(15)->UseRealTime()->Unit(benchmark::kMicrosecond);

// One iteration: 15 coroutines, each one transaction, all at once on one thread.
void keel_async_session_15_coroutines(benchmark::State& state) {
    keel::session_factory sessions(engine_of_15());
    keel::sync_wait([&]() -> keel::task<void> {
        std::int64_t id = 0;
        for (auto _ : state) {
            std::vector<keel::task<void>> batch;
            for (int i = 0; i < 15; ++i) {
                batch.push_back([](keel::session_factory& f, std::int64_t n) -> keel::task<void> {
                    auto s = f.open_async();
                    benchmark::DoNotOptimize(co_await s.one<user>(
                        "SELECT id, email, name FROM users WHERE id = $1", n % 1000 + 1));
                    co_await s.commit();
                }(sessions, id++));
            }
            co_await keel_test::concurrently(std::move(batch));
        }
    }());
    state.SetItemsProcessed(state.iterations() * 15);
}
BENCHMARK(keel_async_session_15_coroutines)->UseRealTime()->Unit(benchmark::kMicrosecond);

// 100 rows of every type keel maps, read into structs; beside it, the same rows as strings.
void keel_read_100_typed_rows(benchmark::State& state) {
    for (auto _ : state) {
        keel::session db(bench_engine());
        benchmark::DoNotOptimize(db.all<typed_row>("SELECT * FROM typed"));
    }
}
BENCHMARK(keel_read_100_typed_rows)->Unit(benchmark::kMicrosecond);

void keel_read_100_rows_as_text(benchmark::State& state) {
    for (auto _ : state) {
        keel::session db(bench_engine());
        benchmark::DoNotOptimize(db.all<text_row>(
            "SELECT id::text, key::text, created_at::text, day::text, price::text, tags::text, "
            "payload::text FROM typed"));
    }
}
BENCHMARK(keel_read_100_rows_as_text)->Unit(benchmark::kMicrosecond);

// Per-test cost of the savepoint mode: begin the test's transaction, one session writes and
// commits, the test's transaction rolls back.
void isolation_savepoint_per_test(benchmark::State& state) {
    for (auto _ : state) {
        keel::testing::isolated_database db(bench_engine());
        auto s = db.open();
        s.exec("INSERT INTO users (email, name) VALUES ('test@example.com', 'Test')");
        s.commit();
    }
}
BENCHMARK(isolation_savepoint_per_test)->Unit(benchmark::kMillisecond);

// Per-test cost of the template mode: copy the database, connect, write, drop it.
void isolation_template_database_per_test(benchmark::State& state) {
    static keel::testing::database_template users_template(server(), "keel_bench_template", schema);
    for (auto _ : state) {
        auto db = users_template.make();
        pqxx::connection c(db.url());
        pqxx::nontransaction(c).exec("INSERT INTO users (email, name) VALUES ('test@example.com', 'Test')");
    }
}
BENCHMARK(isolation_template_database_per_test)->Unit(benchmark::kMillisecond);

}  // namespace
