// keel's promise under faults, against examples/bank run as a real process: a client is never
// told "success" for work that did not commit, money is neither made nor lost, and the service
// keeps or resumes serving — through crashes, SIGTERM, database restarts and pool exhaustion.
#include "bank_process.hpp"
#include "transfer_load.hpp"

#include "database.hpp"  // examples/bank: its schema and seed make the template

#include <gtest/gtest.h>
#include <keel/testing/database_template.hpp>
#include <keel/testing/http_client.hpp>
#include <keel/testing/postgres_environment.hpp>
#include <pqxx/pqxx>

#include <csignal>
#include <future>
#include <sstream>

namespace {

using namespace std::chrono_literals;
using keel::testing::postgres_environment;
using keel_fault::bank_process;
using keel_fault::eventually;
using keel_fault::load_outcome;
using keel_fault::transfer_load;

constexpr int clients = 8;
constexpr int accounts = 20;  // few accounts: transfers contend for the same rows

keel::testing::database_template& seeded_bank() {
    static keel::testing::database_template t(postgres_environment::server(), "bank_fault_seeded", [](keel::session& db) {
        bank::apply_schema(db);
        bank::seed(db);
    });
    return t;
}

long long scalar(const std::string& url, const std::string& sql) {
    pqxx::connection c(url);
    return pqxx::nontransaction(c).exec1(sql)[0].as<long long>();
}

// The ledger after a run: total unchanged, nothing negative, every acknowledged transfer stored,
// and no row beyond those whose outcome the client could not know.
void expect_ledger_consistent(const std::string& url, const load_outcome& o) {
    EXPECT_EQ(o.other, 0) << "answers other than 201/409/503";
    EXPECT_EQ(scalar(url, "SELECT sum(balance) FROM accounts"), 1'000'000);
    EXPECT_EQ(scalar(url, "SELECT count(*) FROM accounts WHERE balance < 0"), 0);
    std::ostringstream ids;
    ids << '{';
    for (std::size_t i = 0; i < o.acknowledged.size(); ++i) ids << (i ? "," : "") << o.acknowledged[i];
    ids << '}';
    pqxx::connection c(url);
    pqxx::nontransaction q(c);
    const auto stored = q.exec_params1("SELECT count(*) FROM transfers WHERE id = ANY($1::bigint[])", ids.str())[0].as<long>();
    EXPECT_EQ(stored, static_cast<long>(o.acknowledged.size())) << "an acknowledged transfer is missing";
    const auto rows = q.exec1("SELECT count(*) FROM transfers")[0].as<long>();
    EXPECT_GE(rows, static_cast<long>(o.acknowledged.size()));
    EXPECT_LE(rows, static_cast<long>(o.acknowledged.size()) + o.unknown) << "a refused or failed transfer left a row";
}

class BankFault : public ::testing::Test {
protected:
    keel::testing::fresh_database database_ = seeded_bank().make();
};

TEST_F(BankFault, TheLedgerHoldsUnderConcurrentTransfers) {
    bank_process bank(database_.url());
    transfer_load load(bank.port(), clients, accounts);
    EXPECT_TRUE(eventually([&] { return load.answered() >= 1500; }, 20s));
    const auto outcome = load.stop();
    EXPECT_EQ(outcome.unknown, 0);
    EXPECT_EQ(outcome.unavailable, 0);
    EXPECT_GT(outcome.refused, 0);  // amounts up to 300 on balances of 1000: some run dry
    expect_ledger_consistent(database_.url(), outcome);
}

TEST_F(BankFault, ACrashMidRunLosesNoAcknowledgedTransfer) {
    std::optional<bank_process> bank(std::in_place, database_.url());
    const auto port = bank->port();
    transfer_load load(port, clients, accounts);
    ASSERT_TRUE(eventually([&] { return load.answered() >= 500; }, 20s));
    bank->signal(SIGKILL);  // mid-write: some transactions are in flight
    EXPECT_EQ(bank->wait_exit(5s), 128 + SIGKILL);
    bank.reset();
    bank.emplace(database_.url(), port);  // the same port: the clients carry on
    const long before = load.acknowledged();
    EXPECT_TRUE(eventually([&] { return load.acknowledged() >= before + 300; }, 20s));
    const auto outcome = load.stop();
    EXPECT_GT(outcome.unknown, 0);  // the crash was felt
    expect_ledger_consistent(database_.url(), outcome);
}

TEST_F(BankFault, SigtermUnderLoadDrainsAndExitsZero) {
    bank_process bank(database_.url());
    transfer_load load(bank.port(), clients, accounts);
    ASSERT_TRUE(eventually([&] { return load.answered() >= 500; }, 20s));
    const auto asked = std::chrono::steady_clock::now();
    bank.signal(SIGTERM);
    const auto status = bank.wait_exit(15s);
    const auto drained_in = std::chrono::steady_clock::now() - asked;
    const auto outcome = load.stop();
    EXPECT_EQ(status, 0);
    EXPECT_LT(drained_in, 10s) << "longer than the drain deadline";
    EXPECT_THROW(keel::testing::http_client(bank.port(), 1s).get("/healthz"), std::runtime_error) << "still accepting";
    expect_ledger_consistent(database_.url(), outcome);
    std::cerr << "[ figures  ] SIGTERM under load: exited in "
              << std::chrono::duration_cast<std::chrono::milliseconds>(drained_in).count() << " ms\n";
}

TEST_F(BankFault, AnExhaustedPoolAnswers503WithinPoolTimeoutThenServesAgain) {
    bank_process bank(database_.url(), 0, {"--pool-size", "2", "--pool-max-overflow", "0", "--pool-timeout-ms", "1000"});
    pqxx::connection side(database_.url());
    pqxx::work lock(side);
    lock.exec("SELECT balance FROM accounts WHERE id = 1 FOR UPDATE");  // transfers from 1 now wait

    struct answer {
        int status = 0;
        bool retry_after = false;
        std::chrono::milliseconds took{0};
    };
    const auto transfer_from_1 = [&] {
        keel::testing::http_client http(bank.port(), 15s);
        const auto start = std::chrono::steady_clock::now();
        const auto res = http.post("/transfers", {{"from_id", 1}, {"to_id", 2}, {"amount", 1}});
        return answer{static_cast<int>(keel::to_int(res.status())), res.header("Retry-After").has_value(),
                      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start)};
    };
    std::vector<std::future<answer>> holders;  // these two take both connections and wait for the lock
    for (int i = 0; i < 2; ++i) holders.push_back(std::async(std::launch::async, transfer_from_1));
    EXPECT_TRUE(eventually(
        [&] { return scalar(database_.url(), "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'") >= 2; },
        10s));
    const auto extra = transfer_from_1();  // no connection left for it
    EXPECT_EQ(extra.status, 503);
    EXPECT_TRUE(extra.retry_after);
    EXPECT_GE(extra.took, 900ms);
    EXPECT_LT(extra.took, 3s);
    std::cerr << "[ figures  ] pool exhausted: 503 after " << extra.took.count() << " ms (pool_timeout 1000 ms)\n";

    lock.commit();  // the holders go through
    for (auto& h : holders) EXPECT_EQ(h.get().status, 201);
    keel::testing::http_client http(bank.port());
    EXPECT_EQ(keel::to_int(http.get("/users/1").status()), 200);
    EXPECT_EQ(keel::to_int(http.post("/transfers", {{"from_id", 3}, {"to_id", 4}, {"amount", 1}}).status()), 201);
    EXPECT_EQ(scalar(database_.url(), "SELECT sum(balance) FROM accounts"), 1'000'000);
}

TEST(BankFaultRestart, ADatabaseRestartFailsFastThenRecoversByItself) {
    keel::testing::postgres_server database;  // its own server: restarting it disturbs no other test
    database.start();
    if (!database.owned()) GTEST_SKIP() << "KEEL_TEST_DATABASE_URL names a server this test must not restart";
    bank_process bank(database.url(), 0, {"--seed"});
    transfer_load load(bank.port(), 4, accounts);
    ASSERT_TRUE(eventually([&] { return load.acknowledged() >= 300; }, 20s));

    database.restart();  // pg_ctl restart -m fast: every pooled connection breaks
    const auto back = std::chrono::steady_clock::now();
    const long before = load.acknowledged();
    EXPECT_TRUE(eventually([&] { return load.acknowledged() >= before + 200; }, 20s));
    const auto recovered_in = std::chrono::steady_clock::now() - back;
    const auto outcome = load.stop();

    EXPECT_EQ(outcome.unknown, 0) << "a request hung or lost its connection instead of getting 503";
    EXPECT_LT(outcome.slowest, 5s);
    EXPECT_LT(recovered_in, 5s);
    keel::testing::http_client http(bank.port());
    EXPECT_EQ(keel::to_int(http.get("/readyz").status()), 200);
    expect_ledger_consistent(database.url(), outcome);
    std::cerr << "[ figures  ] PostgreSQL restart: " << outcome.unavailable << " answers 503, 200 more transfers within "
              << std::chrono::duration_cast<std::chrono::milliseconds>(recovered_in).count() << " ms of the restart\n";
}

}  // namespace
