// keel beyond one process, on real engines from Debian's packages on loopback: bank instances
// behind PgBouncer in transaction mode, read replicas, and HAProxy in front.
#include "bank_process.hpp"
#include "ledger_check.hpp"
#include "service_process.hpp"
#include "transfer_load.hpp"

#include "../support/metrics_page.hpp"
#include "../support/run_command.hpp"

#include <gtest/gtest.h>
#include <keel/testing/http_client.hpp>
#include <keel/testing/ports.hpp>
#include <keel/testing/postgres_environment.hpp>
#include <keel/testing/postgres_server.hpp>

#include <array>
#include <atomic>
#include <csignal>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using keel_fault::bank_process;
using keel_fault::eventually;
using keel_fault::service_process;

// The deployment files the tests run with: the ones examples/bank/deploy gives users to copy.
std::string deploy_file(const std::string& name) {
    return std::string(KEEL_DEPLOY_DIR) + "/" + name;
}

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

void replace_all(std::string& text, const std::string& from, const std::string& to) {
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
        text.replace(at, from.size(), to);
}

// A PgBouncer in front of the test's PostgreSQL, configured by examples/bank/deploy/pgbouncer.ini
// with `server_connections` server connections per database.
class pgbouncer {
public:
    pgbouncer(const std::string& database_url, int server_connections)
        : port_(keel::testing::free_loopback_port()) {
        const auto target = keel_fault::parse_database_url(database_url);
        dir_.write("userlist.txt", "\"" + target.user + "\" \"\"\n");
        auto ini = read_text(deploy_file("pgbouncer.ini"));
        replace_all(ini, "@PRIMARY_HOST@", target.host);
        replace_all(ini, "@PRIMARY_PORT@", std::to_string(target.port));
        replace_all(ini, "@LISTEN_PORT@", std::to_string(port_));
        replace_all(ini, "@DIR@", dir_.path());
        replace_all(ini, "default_pool_size = 20",
                    "default_pool_size = " + std::to_string(server_connections));
        const auto config = dir_.write("pgbouncer.ini", ini);
        process_.emplace(std::vector<std::string>{"/usr/sbin/pgbouncer", "-q", config}, port_, true);
        user_ = target.user;
        database_ = target.database;
    }

    unsigned short port() const noexcept { return port_; }
    /// The URL of the database through the pooler.
    std::string url() const {
        return "postgresql://" + user_ + "@127.0.0.1:" + std::to_string(port_) + "/" + database_;
    }
    /// A SHOW command on PgBouncer's admin console, as `|`-separated rows.
    std::string show(const std::string& what) const {
        return keel_test::run_command("psql -X -At -h 127.0.0.1 -p " + std::to_string(port_) + " -U " +
                                      user_ + " pgbouncer -c 'SHOW " + what + "' 2>&1")
            .first;
    }
    std::string log() const { return read_text(dir_.path() + "/pgbouncer.log"); }

private:
    keel_fault::scratch_directory dir_;
    unsigned short port_;
    std::optional<service_process> process_;
    std::string user_, database_;
};

// HAProxy in front of three instances, configured by examples/bank/deploy/haproxy.cfg.
class haproxy {
public:
    explicit haproxy(const std::array<unsigned short, 3>& banks)
        : port_(keel::testing::free_loopback_port()) {
        process_.emplace(
            std::vector<std::string>{"/usr/sbin/haproxy", "-db", "-q", "-f", deploy_file("haproxy.cfg")},
            port_, false,
            std::vector<std::string>{"KEEL_HAPROXY_PORT=" + std::to_string(port_),
                                     "KEEL_BANK1_PORT=" + std::to_string(banks[0]),
                                     "KEEL_BANK2_PORT=" + std::to_string(banks[1]),
                                     "KEEL_BANK3_PORT=" + std::to_string(banks[2])});
        // Ready once its health checks found an instance up.
        EXPECT_TRUE(eventually(
            [&] {
                try {
                    return keel::testing::http_client(port_, 1s).get("/readyz").status() == keel::status::ok;
                } catch (const std::exception&) {
                    return false;
                }
            },
            10s));
    }
    unsigned short port() const noexcept { return port_; }

private:
    unsigned short port_;
    std::optional<service_process> process_;
};

// Column `name` of the row of `show` output whose first column is `database`.
long pool_column(const std::string& rows, const std::string& database, int column) {
    std::istringstream in(rows);
    for (std::string line; std::getline(in, line);) {
        std::vector<std::string> fields;
        std::istringstream cells(line);
        for (std::string cell; std::getline(cells, cell, '|');) fields.push_back(cell);
        if (fields.size() > static_cast<std::size_t>(column) && fields[0] == database)
            return std::stol(fields[column]);
    }
    return -1;
}

// keel_db_replica_usable of the (one) replica on a bank's metrics page; -1 when not there.
double replica_usable(unsigned short metrics_port) {
    try {
        const auto page = keel::testing::http_client(metrics_port, 1s).get("/metrics").text();
        const auto at = page.find("\nkeel_db_replica_usable{");
        if (at == std::string::npos) return -1;
        return std::stod(page.substr(page.find("} ", at) + 2));
    } catch (const std::exception&) {
        return -1;
    }
}

class Deployment : public ::testing::Test {
protected:
    keel::testing::fresh_database database_ = keel_fault::seeded_bank().make();
};

// Two instances, each with a pool of 6, share 3 server connections through PgBouncer in
// transaction mode under contended transfers: every answer right, no prepared-statement
// confusion (a 500 would count as `other`), the ledger balanced, and PgBouncer saw more
// clients than it had server connections.
TEST_F(Deployment, TwoInstancesShareFewServerConnectionsThroughPgBouncerInTransactionMode) {
    pgbouncer bouncer(database_.url(), 3);
    const std::vector<std::string> env = {"KEEL_DB_TRANSACTION_POOLER=1", "POOL_SIZE=6",
                                          "POOL_MAX_OVERFLOW=0"};
    bank_process a(bouncer.url(), 0, {}, env);
    bank_process b(bouncer.url(), 0, {}, env);
    keel_fault::transfer_load on_a(a.port(), 6, 20), on_b(b.port(), 6, 20);
    long most_clients = 0, most_servers = 0;
    const auto database = keel_fault::parse_database_url(database_.url()).database;
    EXPECT_TRUE(eventually(
        [&] {
            // SHOW POOLS: database|user|cl_active|cl_waiting|...|sv_active|...|sv_idle|sv_used|...
            const auto pools = bouncer.show("POOLS");
            most_clients =
                std::max(most_clients, pool_column(pools, database, 2) + pool_column(pools, database, 3));
            most_servers =
                std::max(most_servers, pool_column(pools, database, 6) + pool_column(pools, database, 9) +
                                           pool_column(pools, database, 10));
            return on_a.answered() + on_b.answered() >= 1500;
        },
        60s));
    auto outcome = on_a.stop();
    const auto second = on_b.stop();
    outcome.acknowledged.insert(outcome.acknowledged.end(), second.acknowledged.begin(),
                                second.acknowledged.end());
    outcome.unknown += second.unknown;
    outcome.unavailable += second.unavailable;
    outcome.other += second.other;
    outcome.in_doubt += second.in_doubt;
    EXPECT_EQ(outcome.unknown, 0);
    EXPECT_EQ(outcome.unavailable, 0);
    EXPECT_EQ(outcome.in_doubt, 0);
    keel_fault::expect_ledger_consistent(database_.url(), outcome);
    EXPECT_GT(most_clients, 3) << bouncer.show("POOLS");  // more client connections than servers...
    EXPECT_LE(most_servers, 3) << bouncer.show("POOLS");  // ...sharing at most three
    EXPECT_GE(pool_column(bouncer.show("STATS"), database, 1), 1500)
        << bouncer.show("STATS");  // total_xact_count
    EXPECT_EQ(bouncer.log().find("prepared statement"), std::string::npos) << bouncer.log();
}

// Three instances behind HAProxy and PgBouncer under contended transfers; each in turn gets
// SIGTERM and is started again. No request fails: no 5xx, no reset, no timeout; every 201 is
// committed and the ledger balances. (The instances' shutdown delay lets HAProxy's /readyz
// checks take each out of rotation before its port closes: examples/bank/deploy/haproxy.cfg.)
TEST_F(Deployment, ARollingRestartBehindHAProxyFailsNoRequest) {
    pgbouncer bouncer(database_.url(), 10);
    const std::vector<std::string> env = {"KEEL_DB_TRANSACTION_POOLER=1", "KEEL_SHUTDOWN_DELAY_MS=1000",
                                          "FORWARDED_ALLOW_IPS=127.0.0.1", "POOL_SIZE=5",
                                          "POOL_MAX_OVERFLOW=0"};
    std::array<std::optional<bank_process>, 3> banks;
    std::array<unsigned short, 3> ports{};
    for (std::size_t i = 0; i < banks.size(); ++i) {
        banks[i].emplace(bouncer.url(), 0, std::vector<std::string>{}, env);
        ports[i] = banks[i]->port();
    }
    haproxy proxy(ports);
    keel_fault::transfer_load load(proxy.port(), 8, 20);
    ASSERT_TRUE(eventually([&] { return load.answered() >= 200; }, 20s));
    for (std::size_t i = 0; i < banks.size(); ++i) {
        banks[i]->signal(SIGTERM);
        EXPECT_EQ(banks[i]->wait_exit(20s), 0) << "instance " << i << " did not drain and exit 0";
        banks[i].reset();
        banks[i].emplace(bouncer.url(), ports[i], std::vector<std::string>{}, env);
        const long before = load.answered();
        EXPECT_TRUE(eventually([&] { return load.answered() >= before + 200; }, 20s));
        std::this_thread::sleep_for(1s);  // HAProxy's rise (2 checks, 200 ms apart), then the next
    }
    const auto outcome = load.stop();
    EXPECT_EQ(outcome.unknown, 0) << "resets or timeouts";
    EXPECT_EQ(outcome.unavailable, 0);
    EXPECT_EQ(outcome.in_doubt, 0);
    EXPECT_GT(outcome.acknowledged.size(), 100u);
    keel_fault::expect_ledger_consistent(database_.url(), outcome);
}

// The bank with a replica whose replay is held back 3 s: a client that registers a user and
// reads it back at once, with the Keel-Read-After token it got, always finds it; without the
// token the read goes to the replica and does not (yet).
TEST_F(Deployment, ABankClientReadsTheUserItJustCreatedDespiteALaggingReplica) {
    auto& primary = keel::testing::postgres_environment::server();
    if (!primary.owned()) GTEST_SKIP() << "KEEL_TEST_DATABASE_URL's server: no replica can be made of it";
    keel::testing::postgres_server replica;
    replica.start_as_replica_of(primary, 3s);
    const auto database = keel_fault::parse_database_url(database_.url()).database;
    const auto metrics_port = keel::testing::free_loopback_port();
    bank_process bank(
        database_.url(), 0, {},
        {"DATABASE_REPLICA_URLS=" + replica.url_for(database), "KEEL_READ_YOUR_WRITES_WAIT_MS=100",
         "KEEL_MAX_REPLICA_LAG_MS=60000", "KEEL_METRICS_PORT=" + std::to_string(metrics_port)});
    // The monitor's first check finds the replica fit a moment after start-up.
    ASSERT_TRUE(eventually([&] { return replica_usable(metrics_port) == 1; }, 20s))
        << "the replica never came in use";
    keel::testing::http_client http(bank.port());
    int stale = 0;
    for (int i = 0; i < 10; ++i) {
        const auto email = "ryw" + std::to_string(i) + "@example.com";
        const auto created = http.post("/users", nlohmann::json{{"email", email}, {"name", "Reader"}});
        ASSERT_EQ(created.status(), keel::status::created) << created;
        const auto token = created.header("Keel-Read-After");
        ASSERT_TRUE(token.has_value()) << created;
        const auto path = "/users/" + std::to_string(created.json()["id"].get<std::int64_t>());
        keel::header_map with_token;
        with_token.add("Keel-Read-After", std::string(*token));
        const auto mine = http.get(path, with_token);
        EXPECT_EQ(mine.status(), keel::status::ok) << mine;
        if (http.get(path).status() == keel::status::not_found) ++stale;
    }
    EXPECT_GT(stale, 0) << "no read without the token went to the (3 s behind) replica";
}

// The replica stops under a read load: every read is still answered (by the primary), and once
// the replica is back the reads return to it by themselves.
TEST_F(Deployment, ReadsSurviveTheReplicaStoppingAndReturnToItWhenItIsBack) {
    auto& primary = keel::testing::postgres_environment::server();
    if (!primary.owned()) GTEST_SKIP() << "KEEL_TEST_DATABASE_URL's server: no replica can be made of it";
    keel::testing::postgres_server replica;
    replica.start_as_replica_of(primary);
    const auto database = keel_fault::parse_database_url(database_.url()).database;
    const auto metrics_port = keel::testing::free_loopback_port();
    bank_process bank(
        database_.url(), 0, {},
        {"DATABASE_REPLICA_URLS=" + replica.url_for(database), "KEEL_REPLICA_CHECK_INTERVAL_MS=100",
         "KEEL_METRICS_PORT=" + std::to_string(metrics_port)});
    const auto replica_reads = [&] {
        const auto page = keel::testing::http_client(metrics_port).get("/metrics").text();
        const auto label = "keel_db_replica_reads_total{replica=\"127.0.0.1:" +
                           std::to_string(keel_fault::parse_database_url(replica.url_for(database)).port) +
                           "/" + database + "\"}";
        return keel_test::sample(page, label).value_or(-1);
    };

    std::atomic<bool> stop{false};
    std::atomic<long> answered{0}, failed{0};
    std::vector<std::thread> readers;
    for (int t = 0; t < 4; ++t) {
        readers.emplace_back([&, t] {
            std::optional<keel::testing::http_client> http;
            for (int i = 0; !stop; ++i) {
                try {
                    if (!http) http.emplace(bank.port(), 5s);
                    const auto r = http->get("/users/" + std::to_string(1 + (t * 997 + i) % 10000));
                    (r.status() == keel::status::ok ? answered : failed)++;
                } catch (const std::exception&) {
                    ++failed;
                    http.reset();
                }
            }
        });
    }
    struct join_on_exit {
        std::atomic<bool>& stop;
        std::vector<std::thread>& threads;
        ~join_on_exit() {
            stop = true;
            for (auto& t : threads) t.join();
        }
    } join{stop, readers};

    ASSERT_TRUE(eventually([&] { return replica_reads() >= 100; }, 20s))
        << "the reads never went to the replica";
    replica.halt();
    const long at_halt = answered;
    EXPECT_TRUE(eventually([&] { return answered >= at_halt + 500; }, 20s))
        << "reads stalled without the replica";
    const auto while_down = replica_reads();
    replica.start_again();
    EXPECT_TRUE(eventually([&] { return replica_reads() >= while_down + 100; }, 20s))
        << "the reads did not return to the replica";
    stop = true;
    EXPECT_EQ(failed, 0) << "reads failed while the replica was away";
    EXPECT_GT(answered, 0);
}

}  // namespace
