#pragma once

// What the fault and deployment tests check after a load of transfers: the seeded bank they
// start from, and a ledger that lost and made nothing.

#include "transfer_load.hpp"

#include "database.hpp"  // examples/bank: its schema and seed make the template

#include <gtest/gtest.h>
#include <keel/testing/database_template.hpp>
#include <keel/testing/postgres_environment.hpp>
#include <pqxx/pqxx>

#include <sstream>
#include <string>

namespace keel_fault {

inline keel::testing::database_template& seeded_bank() {
    static keel::testing::database_template t(keel::testing::postgres_environment::server(),
                                              "bank_fault_seeded", [](keel::session& db) {
                                                  bank::apply_schema(db);
                                                  bank::seed(db);
                                              });
    return t;
}

inline long long scalar(const std::string& url, const std::string& sql) {
    pqxx::connection c(url);
    return pqxx::nontransaction(c).exec1(sql)[0].as<long long>();
}

// The ledger after a run: total unchanged, nothing negative, every acknowledged transfer stored,
// and no row beyond those whose outcome the client could not know.
inline void expect_ledger_consistent(const std::string& url, const load_outcome& o) {
    EXPECT_EQ(o.other, 0) << "answers other than 201/409/503/outcome-unknown";
    EXPECT_EQ(scalar(url, "SELECT sum(balance) FROM accounts"), 1'000'000);
    EXPECT_EQ(scalar(url, "SELECT count(*) FROM accounts WHERE balance < 0"), 0);
    std::ostringstream ids;
    ids << '{';
    for (std::size_t i = 0; i < o.acknowledged.size(); ++i) ids << (i ? "," : "") << o.acknowledged[i];
    ids << '}';
    pqxx::connection c(url);
    pqxx::nontransaction q(c);
    const auto stored =
        q.exec_params1("SELECT count(*) FROM transfers WHERE id = ANY($1::bigint[])", ids.str())[0]
            .as<long>();
    EXPECT_EQ(stored, static_cast<long>(o.acknowledged.size())) << "an acknowledged transfer is missing";
    const auto rows = q.exec1("SELECT count(*) FROM transfers")[0].as<long>();
    EXPECT_GE(rows, static_cast<long>(o.acknowledged.size()));
    EXPECT_LE(rows, static_cast<long>(o.acknowledged.size()) + o.unknown + o.in_doubt)
        << "a refused or failed transfer left a row";
}

}  // namespace keel_fault
