// keel beyond one process, on real engines from Debian's packages on loopback: bank instances
// behind PgBouncer in transaction mode, read replicas, and HAProxy in front.
#include "bank_process.hpp"
#include "ledger_check.hpp"
#include "service_process.hpp"
#include "transfer_load.hpp"

#include "../support/run_command.hpp"

#include <gtest/gtest.h>
#include <keel/testing/ports.hpp>

#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using keel_fault::bank_process;
using keel_fault::eventually;
using keel_fault::service_process;

// A PgBouncer in front of the test's PostgreSQL: every database of the server under its own
// name, `server_connections` server connections per database, in `mode`.
class pgbouncer {
public:
    pgbouncer(const std::string& database_url, int server_connections, const std::string& mode = "transaction")
        : port_(keel::testing::free_loopback_port()) {
        const auto target = keel_fault::parse_database_url(database_url);
        const auto users = dir_.write("userlist.txt", "\"" + target.user + "\" \"\"\n");
        std::ostringstream ini;
        ini << "[databases]\n* = host=" << target.host << " port=" << target.port << "\n"
            << "[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = " << port_ << "\nunix_socket_dir =\n"
            << "auth_type = trust\nauth_file = " << users << "\npool_mode = " << mode
            << "\ndefault_pool_size = " << server_connections << "\nmax_client_conn = 500\n"
            << "admin_users = " << target.user << "\nlogfile = " << dir_.path() << "/pgbouncer.log\n";
        const auto config = dir_.write("pgbouncer.ini", ini.str());
        process_.emplace(std::vector<std::string>{"/usr/sbin/pgbouncer", "-q", config}, port_, true);
        user_ = target.user;
        database_ = target.database;
    }

    unsigned short port() const noexcept { return port_; }
    /// The URL of `database` through the pooler.
    std::string url() const {
        return "postgresql://" + user_ + "@127.0.0.1:" + std::to_string(port_) + "/" + database_;
    }
    /// A SHOW command on PgBouncer's admin console, as `|`-separated rows.
    std::string show(const std::string& what) const {
        return keel_test::run_command("psql -X -At -h 127.0.0.1 -p " + std::to_string(port_) + " -U " + user_ +
                                      " pgbouncer -c 'SHOW " + what + "' 2>&1")
            .first;
    }
    std::string log() const { return keel_test::run_command("cat " + dir_.path() + "/pgbouncer.log").first; }

private:
    keel_fault::scratch_directory dir_;
    unsigned short port_;
    std::optional<service_process> process_;
    std::string user_, database_;
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
    const std::vector<std::string> env = {"KEEL_DB_TRANSACTION_POOLER=1", "POOL_SIZE=6", "POOL_MAX_OVERFLOW=0"};
    bank_process a(bouncer.url(), 0, {}, env);
    bank_process b(bouncer.url(), 0, {}, env);
    keel_fault::transfer_load on_a(a.port(), 6, 20), on_b(b.port(), 6, 20);
    long most_clients = 0, most_servers = 0;
    const auto database = keel_fault::parse_database_url(database_.url()).database;
    EXPECT_TRUE(eventually(
        [&] {
            // SHOW POOLS: database|user|cl_active|cl_waiting|...|sv_active|...|sv_idle|sv_used|...
            const auto pools = bouncer.show("POOLS");
            most_clients = std::max(most_clients, pool_column(pools, database, 2) + pool_column(pools, database, 3));
            most_servers = std::max(most_servers, pool_column(pools, database, 6) + pool_column(pools, database, 9) +
                                                      pool_column(pools, database, 10));
            return on_a.answered() + on_b.answered() >= 1500;
        },
        60s));
    auto outcome = on_a.stop();
    const auto second = on_b.stop();
    outcome.acknowledged.insert(outcome.acknowledged.end(), second.acknowledged.begin(), second.acknowledged.end());
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
    EXPECT_GE(pool_column(bouncer.show("STATS"), database, 1), 1500) << bouncer.show("STATS");  // total_xact_count
    EXPECT_EQ(bouncer.log().find("prepared statement"), std::string::npos) << bouncer.log();
}

}  // namespace
