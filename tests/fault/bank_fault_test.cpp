// keel's promise under faults, against examples/bank run as a real process: a client is never
// told "success" for work that did not commit, money is neither made nor lost, and the service
// keeps or resumes serving — through crashes, SIGTERM, database restarts and pool exhaustion.
#include "bank_process.hpp"
#include "ledger_check.hpp"
#include "transfer_load.hpp"

#include "../http/raw_client.hpp"

#include "database.hpp"  // examples/bank: its schema and seed make the template

#include <gtest/gtest.h>
#include <keel/testing/database_template.hpp>
#include <keel/testing/http_client.hpp>
#include <keel/testing/postgres_environment.hpp>
#include <pqxx/pqxx>

#include <sys/resource.h>
#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <future>
#include <memory>
#include <sstream>
#include <thread>

namespace {

using namespace std::chrono_literals;
using keel::testing::postgres_environment;
using keel_fault::bank_process;
using keel_fault::eventually;
using keel_fault::expect_ledger_consistent;
using keel_fault::load_outcome;
using keel_fault::scalar;
using keel_fault::seeded_bank;
using keel_fault::transfer_load;
using keel_test::get_request;
using keel_test::raw_client;

constexpr int clients = 8;
constexpr int accounts = 20;  // few accounts: transfers contend for the same rows

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
    EXPECT_THROW(keel::testing::http_client(bank.port(), 1s).get("/healthz"), std::runtime_error)
        << "still accepting";
    expect_ledger_consistent(database_.url(), outcome);
    std::cerr << "[ figures  ] SIGTERM under load: exited in "
              << std::chrono::duration_cast<std::chrono::milliseconds>(drained_in).count() << " ms\n";
}

TEST_F(BankFault, AnExhaustedPoolAnswers503WithinPoolTimeoutThenServesAgain) {
    bank_process bank(database_.url(), 0,
                      {"--pool-size", "2", "--pool-max-overflow", "0", "--pool-timeout-ms", "1000"});
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
        return answer{
            static_cast<int>(keel::to_int(res.status())), res.header("Retry-After").has_value(),
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start)};
    };
    std::vector<std::future<answer>> holders;  // these two take both connections and wait for the lock
    for (int i = 0; i < 2; ++i) holders.push_back(std::async(std::launch::async, transfer_from_1));
    EXPECT_TRUE(eventually(
        [&] {
            return scalar(database_.url(),
                          "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'") >= 2;
        },
        10s));
    const auto extra = transfer_from_1();  // no connection left for it
    EXPECT_EQ(extra.status, 503);
    EXPECT_TRUE(extra.retry_after);
    EXPECT_GE(extra.took, 900ms);
    EXPECT_LT(extra.took, 3s);
    std::cerr << "[ figures  ] pool exhausted: 503 after " << extra.took.count()
              << " ms (pool_timeout 1000 ms)\n";
    keel::testing::http_client probe(bank.port(), 10s);
    const auto asked = std::chrono::steady_clock::now();
    EXPECT_EQ(keel::to_int(probe.get("/readyz").status()), 503u) << "readiness while no connection is free";
    EXPECT_LT(std::chrono::steady_clock::now() - asked, 3s);

    lock.commit();  // the holders go through
    for (auto& h : holders) EXPECT_EQ(h.get().status, 201);
    keel::testing::http_client http(bank.port());
    EXPECT_EQ(keel::to_int(http.get("/users/1").status()), 200);
    EXPECT_EQ(keel::to_int(http.post("/transfers", {{"from_id", 3}, {"to_id", 4}, {"amount", 1}}).status()),
              201);
    EXPECT_EQ(scalar(database_.url(), "SELECT sum(balance) FROM accounts"), 1'000'000);
}

TEST(BankFaultRestart, ADatabaseRestartFailsFastThenRecoversByItself) {
    // Its own server, even under KEEL_TEST_DATABASE_URL: restarting it disturbs no other test.
    keel::testing::postgres_server database(keel::testing::postgres_server::source::always_private);
    database.start();
    bank_process bank(database.url(), 0, {"--seed"});
    transfer_load load(bank.port(), 4, accounts);
    ASSERT_TRUE(eventually([&] { return load.acknowledged() >= 300; }, 20s));

    std::atomic<bool> probing{true};
    std::atomic<int> readyz_unavailable{0}, readyz_other{0};
    std::thread readiness([&] {  // what a load balancer sees meanwhile
        keel::testing::http_client http(bank.port(), 10s);
        while (probing) {
            const auto status = keel::to_int(http.get("/readyz").status());
            if (status == 503)
                ++readyz_unavailable;
            else if (status != 200)
                ++readyz_other;
            std::this_thread::sleep_for(5ms);
        }
    });
    database.restart();  // pg_ctl restart -m fast: every pooled connection breaks
    const auto back = std::chrono::steady_clock::now();
    const long before = load.acknowledged();
    EXPECT_TRUE(eventually([&] { return load.acknowledged() >= before + 200; }, 20s));
    const auto recovered_in = std::chrono::steady_clock::now() - back;
    const auto outcome = load.stop();
    probing = false;
    readiness.join();

    EXPECT_GT(readyz_unavailable, 0) << "/readyz never said 503 while the database was down";
    EXPECT_EQ(readyz_other, 0);
    EXPECT_EQ(outcome.unknown, 0) << "a request hung or lost its connection instead of getting 503";
    EXPECT_LT(outcome.slowest, 5s);
    EXPECT_LT(recovered_in, 5s);
    keel::testing::http_client http(bank.port());
    EXPECT_EQ(keel::to_int(http.get("/readyz").status()), 200);
    expect_ledger_consistent(database.url(), outcome);
    std::cerr << "[ figures  ] PostgreSQL restart: " << outcome.unavailable
              << " answers 503, 200 more transfers within "
              << std::chrono::duration_cast<std::chrono::milliseconds>(recovered_in).count()
              << " ms of the restart\n";
}

}  // namespace

namespace {

// Hostile clients at the bank's door — thousands of idle keep-alive connections, a slowloris
// trickling its headers, oversized and smuggling requests — while ordinary clients transfer
// money: they are answered as before and the hostile ones get 400/413/431 or nothing.
TEST_F(BankFault, HostileClientsDoNotDisturbTheOthers) {
    rlimit files{};
    ::getrlimit(RLIMIT_NOFILE, &files);
    files.rlim_cur = files.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &files);
    const int idle_count =
        static_cast<int>(std::min<rlim_t>(2000, files.rlim_cur > 200 ? files.rlim_cur - 200 : 0));

    bank_process bank(database_.url());
    std::vector<std::unique_ptr<raw_client>> idle;
    for (int i = 0; i < idle_count; ++i) {
        idle.push_back(std::make_unique<raw_client>(bank.port()));
        idle.back()->send(get_request("/healthz"));  // then stays open, silent
    }
    for (auto& c : idle) ASSERT_TRUE(c->read_response(10s)) << "an idle keep-alive connection got no answer";

    raw_client slowloris(bank.port());
    std::atomic<bool> trickling{true};
    std::thread trickle([&] {
        const std::string head = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ";
        for (std::size_t i = 0; trickling && i < head.size() + 200; ++i) {
            if (!slowloris.send(i < head.size() ? head.substr(i, 1) : "a")) break;
            std::this_thread::sleep_for(10ms);
        }
    });

    transfer_load load(bank.port(), clients, accounts);
    raw_client big_header(bank.port());
    big_header.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(64 * 1024, 'a') + "\r\n\r\n");
    const auto too_big = big_header.read_response(10s);
    ASSERT_TRUE(too_big);
    EXPECT_EQ(too_big->status, 431);
    raw_client big_body(bank.port());
    big_body.send(
        "POST /users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
        "2000000\r\n\r\n");
    const auto body_refused = big_body.read_response(10s);
    ASSERT_TRUE(body_refused);
    EXPECT_EQ(body_refused->status, 413);
    raw_client smuggler(bank.port());
    smuggler.send(
        "POST /transfers HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: "
        "chunked\r\n\r\n0\r\n\r\n"
        "POST /transfers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n"
        "{\"from_id\":1,\"to_id\":2,\"amount\":999}");
    const auto smuggled = smuggler.read_response(10s);
    ASSERT_TRUE(smuggled);
    EXPECT_EQ(smuggled->status, 400);
    EXPECT_TRUE(smuggler.closed_within(5s)) << "the connection of a smuggling probe stays open";

    EXPECT_TRUE(eventually([&] { return load.acknowledged() >= 500; }, 20s));
    trickling = false;
    trickle.join();
    const auto outcome = load.stop();
    EXPECT_EQ(outcome.unknown, 0);
    EXPECT_EQ(outcome.unavailable, 0);
    EXPECT_LT(outcome.slowest, 2s) << "ordinary clients were held up";
    expect_ledger_consistent(database_.url(), outcome);
    keel::testing::http_client http(bank.port());
    EXPECT_EQ(keel::to_int(http.get("/healthz").status()), 200u);
    std::cerr << "[ figures  ] hostile: " << idle_count << " idle keep-alive connections, "
              << outcome.acknowledged.size() << " transfers answered meanwhile, slowest "
              << outcome.slowest.count() << " ms\n";
}

// A few minutes of mixed load in CI terms (KEEL_SOAK_SECONDS, default 20, after 5 s of warm-up):
// memory and open descriptors stay flat.
TEST_F(BankFault, SoakKeepsMemoryAndDescriptorsFlat) {
    const char* configured = std::getenv("KEEL_SOAK_SECONDS");
    const auto soak = std::chrono::seconds(configured ? std::atoi(configured) : 20);
    bank_process bank(database_.url());
    transfer_load transfers(bank.port(), 4, accounts);
    std::atomic<bool> stop{false};
    std::atomic<long> reads{0}, signups{0}, failures{0};
    std::vector<std::thread> others;
    for (int i = 0; i < 4; ++i) {
        others.emplace_back([&, i] {
            keel::testing::http_client http(bank.port(), 10s);
            for (long n = 0; !stop; ++n) {
                try {
                    if (i % 2 == 0) {
                        const auto status =
                            keel::to_int(http.get("/users/" + std::to_string(n % 10000 + 1)).status());
                        (status == 200 ? reads : failures)++;
                    } else {
                        const auto email =
                            "soak-" + std::to_string(i) + "-" + std::to_string(n) + "@example.com";
                        const auto status =
                            keel::to_int(http.post("/users", {{"email", email}, {"name", "Soak"}}).status());
                        (status == 201 ? signups : failures)++;
                    }
                } catch (const std::exception&) {
                    ++failures;
                }
            }
        });
    }
    std::this_thread::sleep_for(5s);  // warm-up: pools, caches and allocator arenas fill
    const long rss_before = bank.rss_kib(), fds_before = bank.open_fds();
    std::this_thread::sleep_for(soak);
    const long rss_after = bank.rss_kib(), fds_after = bank.open_fds();
    stop = true;
    for (auto& t : others) t.join();
    const auto outcome = transfers.stop();

    EXPECT_EQ(failures, 0);
    EXPECT_EQ(outcome.unknown + outcome.unavailable + outcome.in_doubt + outcome.other, 0);
    EXPECT_LT(rss_after - rss_before, std::max(8L * 1024, rss_before / 4))
        << "RSS grew from " << rss_before << " KiB";
    EXPECT_LE(std::abs(fds_after - fds_before), 4) << "descriptors " << fds_before << " -> " << fds_after;
    expect_ledger_consistent(database_.url(), outcome);
    std::cerr << "[ figures  ] soak " << soak.count() << " s: " << outcome.acknowledged.size()
              << " transfers, " << reads << " reads, " << signups << " sign-ups; RSS " << rss_before << " -> "
              << rss_after << " KiB, fds " << fds_before << " -> " << fds_after << "\n";
}

}  // namespace

namespace {

// pg_terminate_backend on every connection of the bank while clients transfer: the requests
// that find a dead connection get 503 at once (or, caught with COMMIT in flight, 500 "outcome
// unknown", whose rows the ledger check allows for), the pool replaces the connections, and
// service is whole again without restarting the bank.
TEST_F(BankFault, TerminatedBackendsAreReplacedWithoutARestart) {
    bank_process bank(database_.url());
    transfer_load load(bank.port(), clients, accounts);
    ASSERT_TRUE(eventually([&] { return load.acknowledged() >= 300; }, 20s));
    pqxx::connection admin(postgres_environment::server().url());
    const auto terminated = pqxx::nontransaction(admin)
                                .exec_params1(
                                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                    "WHERE datname = $1 AND pid <> pg_backend_pid()",
                                    database_.name())[0]
                                .as<int>();
    const auto killed = std::chrono::steady_clock::now();
    const long before = load.acknowledged();
    EXPECT_TRUE(eventually([&] { return load.acknowledged() >= before + 300; }, 20s));
    const auto recovered_in = std::chrono::steady_clock::now() - killed;
    const auto outcome = load.stop();

    EXPECT_GE(terminated, 1);
    EXPECT_EQ(outcome.unknown, 0);
    EXPECT_LE(outcome.unavailable + outcome.in_doubt, static_cast<long>(terminated))
        << "more failures than dead connections";
    EXPECT_LT(recovered_in, 5s);
    expect_ledger_consistent(database_.url(), outcome);
    std::cerr << "[ figures  ] " << terminated << " backends terminated: " << outcome.unavailable
              << " answers 503, " << outcome.in_doubt << " outcome unknown, 300 more transfers within "
              << std::chrono::duration_cast<std::chrono::milliseconds>(recovered_in).count() << " ms\n";
}

}  // namespace
