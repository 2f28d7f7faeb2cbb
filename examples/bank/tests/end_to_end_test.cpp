// End-to-end tests: the real server on a loopback port, on a fresh database per test copied
// from a seeded template, driven over real sockets from several threads.
#include "app.hpp"
#include "database.hpp"

#include <gtest/gtest.h>
#include <keel/testing/database_template.hpp>
#include <keel/testing/http_client.hpp>
#include <keel/testing/live_server.hpp>
#include <keel/testing/postgres_environment.hpp>

#include "../../../tests/support/jwt_minter.hpp"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>
#include <vector>

namespace {

using keel::testing::postgres_environment;

// Schema and the contract's seed, made once and copied for each test.
keel::testing::database_template& seeded_bank() {
    static keel::testing::database_template t(postgres_environment::server(), "bank_seeded",
                                              [](keel::session& db) {
                                                  bank::apply_schema(db);
                                                  bank::seed(db);
                                              });
    return t;
}

class BankEndToEnd : public ::testing::Test {
protected:
    BankEndToEnd() {
        bank::settings s;
        s.database.url = database_.url();
        bank::configure(app_, s);
    }
    std::int64_t scalar(const std::string& sql) {
        keel::engine_options o;
        o.url = database_.url();
        keel::engine e(o);
        return keel::session_factory(e).open().scalar<std::int64_t>(sql);
    }

    keel::testing::fresh_database database_ = seeded_bank().make();
    keel::app app_;
};

TEST_F(BankEndToEnd, ServesTheContractOverASocket) {
    keel::testing::live_server server(app_);
    keel::testing::http_client http(server.port());
    EXPECT_EQ(http.get("/readyz").status(), 200);
    const auto user = http.get("/users/42");
    ASSERT_EQ(user.status(), 200) << user;
    EXPECT_EQ(user.json()["email"], "user42@example.com");
    EXPECT_EQ(http.post("/users", {{"email", "new@example.com"}, {"name", "New"}}).status(), 201);
    EXPECT_EQ(http.post("/users", {{"email", "new@example.com"}, {"name", "New"}}).status(), 409);
    EXPECT_EQ(http.get("/accounts/7").json()["balance"], 1000);
}

// The contract's invariant: whatever the interleaving, money is neither made nor lost, every
// acknowledged transfer is recorded and every refused one left no trace.
TEST_F(BankEndToEnd, ConcurrentTransfersKeepTheTotalAndRecordExactlyTheAcknowledgedOnes) {
    constexpr int clients = 8, per_client = 60;
    std::atomic<int> created{0}, refused{0}, other{0};
    {
        keel::testing::live_server server(app_);
        std::vector<std::thread> threads;
        threads.reserve(clients);
        for (int c = 0; c < clients; ++c) {
            threads.emplace_back([&, c] {
                keel::testing::http_client http(server.port());
                std::mt19937 random(static_cast<unsigned>(c));
                std::uniform_int_distribution<int> account(1, 10),
                    amount(1, 700);  // few accounts: contention
                for (int i = 0; i < per_client; ++i) {
                    const auto res = http.post("/transfers", {{"from_id", account(random)},
                                                              {"to_id", account(random)},
                                                              {"amount", amount(random)}});
                    if (res.status() == 201)
                        ++created;
                    else if (res.status() == 409)
                        ++refused;
                    else
                        ++other;
                }
            });
        }
        for (auto& t : threads) t.join();
    }
    EXPECT_EQ(other, 0);
    EXPECT_GT(created, 0);
    EXPECT_GT(refused, 0);  // the amounts are large enough that some accounts run dry
    EXPECT_EQ(scalar("SELECT sum(balance)::bigint FROM accounts"), 1'000'000);
    EXPECT_EQ(scalar("SELECT count(*) FROM transfers"), created.load());
    EXPECT_EQ(scalar("SELECT count(*) FROM accounts WHERE balance < 0"), 0);
}

// GET /admin/ledger: a bearer JWT with the admin scope, verified with the key JWT_KEY_FILE
// names (here an HS256 secret) and for the audience JWT_AUDIENCE names.
TEST_F(BankEndToEnd, TheLedgerAnswersOnlyAnAdminTokenForTheBank) {
    const auto key_file =
        std::filesystem::temp_directory_path() / ("keel_bank_jwt_" + std::to_string(::getpid()));
    const std::string secret = "a-secret-of-more-than-32-bytes-for-hs256";
    std::ofstream(key_file) << secret << '\n';
    bank::settings s;
    s.database.url = database_.url();
    s.jwt_key_file = key_file.string();
    s.jwt_audience = "bank";
    keel::app app;
    bank::configure(app, s);
    app.logger().set_level(keel::log_level::warning);
    keel::testing::live_server server(app);
    keel::testing::http_client http(server.port());
    const auto token = [&](const nlohmann::json& claims) {
        return keel::header_map{
            {"Authorization", "Bearer " + keel_test::mint({{"alg", "HS256"}}, keel_test::fresh_claims(claims),
                                                          nullptr, secret)}};
    };
    EXPECT_EQ(http.get("/admin/ledger").status(), 401);
    EXPECT_EQ(http.get("/admin/ledger", token({{"aud", "bank"}, {"scope", "read"}})).status(), 403);
    EXPECT_EQ(http.get("/admin/ledger", token({{"aud", "shop"}, {"scope", "admin"}})).status(), 401);
    const auto ledger = http.get("/admin/ledger", token({{"aud", "bank"}, {"scope", "read admin"}}));
    ASSERT_EQ(ledger.status(), 200) << ledger;
    EXPECT_EQ(ledger.json(), (nlohmann::json{{"total", 1'000'000}, {"accounts", 1000}}));
    std::filesystem::remove(key_file);
}

TEST_F(BankEndToEnd, WithoutAKeyTheLedgerIs503NeverOpen) {
    app_.logger().set_level(keel::log_level::error);
    keel::testing::live_server server(app_);
    keel::testing::http_client http(server.port());
    EXPECT_EQ(http.get("/admin/ledger").status(), 503);
    const keel::header_map forged = {
        {"Authorization",
         "Bearer " + keel_test::mint({{"alg", "HS256"}}, keel_test::fresh_claims({{"scope", "admin"}}),
                                     nullptr, "any-secret-of-more-than-32-bytes-long")}};
    EXPECT_EQ(http.get("/admin/ledger", forged).status(), 503);
    EXPECT_EQ(http.get("/users/1").status(), 200) << "the public endpoints stay as they are";
}

}  // namespace
