// Handler tests: the bank's routes through the in-process client, with get_async_session overridden
// onto an isolated database, so each test sees only its own data and leaves nothing behind.
#include "app.hpp"
#include "models.hpp"

#include <gtest/gtest.h>
#include <keel/get_async_session.hpp>
#include <keel/testing/client.hpp>
#include <keel/testing/isolated_database.hpp>
#include <keel/testing/postgres_environment.hpp>

#include <string>

namespace {

using keel::testing::postgres_environment;
using json = nlohmann::json;

bank::settings test_settings() {
    bank::settings s;
    s.database.url = postgres_environment::server().url();
    s.database.pool_size = 2;
    return s;
}

// The connection the isolated databases borrow: one engine for the whole binary.
keel::engine& test_engine() {
    static keel::engine e(test_settings().database);
    return e;
}

// The service as production configures it.
struct bank_service {
    bank_service() { bank::configure(app, test_settings()); }
    keel::app app;
};

class BankHandlers : public ::testing::Test {
protected:
    // Arranges data in the test's own transaction.
    std::int64_t add_user(const std::string& email) {
        auto s = db_.open();
        auto id =
            s.scalar<std::int64_t>("INSERT INTO users (email, name) VALUES ($1, 'Test') RETURNING id", email);
        s.commit();
        return id;
    }
    std::int64_t add_account(std::int64_t balance) {
        auto s = db_.open();
        auto id = s.scalar<std::int64_t>(
            "INSERT INTO accounts (owner_id, balance) VALUES ((SELECT min(id) FROM users), $1) RETURNING id",
            balance);
        s.commit();
        return id;
    }
    std::int64_t balance(std::int64_t account) {
        return db_.open().scalar<std::int64_t>("SELECT balance FROM accounts WHERE id = $1", account);
    }
    long transfers() { return db_.open().scalar<long>("SELECT count(*) FROM transfers"); }

    bank_service service_;
    keel::testing::client client_{service_.app};  // runs the lifespan: the schema is there from now on
    keel::testing::isolated_database db_{test_engine()};
    keel::dependency_overrides::guard restore_ =
        client_.override(keel::get_async_session, [this] { return keel::get_async_session(db_.sessions()); });
    keel::dependency_overrides::guard restore_reads_ =
        client_.override(keel::get_autocommit_read_async_session,
                         [this] { return keel::get_autocommit_read_async_session(db_.sessions()); });
};

TEST_F(BankHandlers, GetUserAnswersTheUserOr404) {
    const auto id = add_user("ada@example.com");
    const auto found = client_.get("/users/" + std::to_string(id));
    ASSERT_EQ(found.status(), 200) << found;
    EXPECT_EQ(found.json(), (json{{"id", id}, {"email", "ada@example.com"}, {"name", "Test"}}));

    const auto missing = client_.get("/users/" + std::to_string(id + 1000));
    EXPECT_EQ(missing.status(), 404);
    EXPECT_EQ(missing.json(), (json{{"detail", "user not found"}}));
    EXPECT_EQ(client_.get("/users/abc").status(), 422);
}

TEST_F(BankHandlers, CreateUserAnswers201ThenRefusesTheSameEmail) {
    const auto created = client_.post("/users", {{"email", "bob@example.com"}, {"name", "Bob"}});
    ASSERT_EQ(created.status(), 201) << created;
    EXPECT_EQ(created.json()["email"], "bob@example.com");
    EXPECT_TRUE(created.json()["id"].is_number_integer());

    const auto again = client_.post("/users", {{"email", "bob@example.com"}, {"name", "Bobby"}});
    EXPECT_EQ(again.status(), 409) << again;
    EXPECT_EQ(again.json(), (json{{"detail", "email already registered"}}));
    EXPECT_EQ(db_.open().scalar<long>("SELECT count(*) FROM users WHERE email = 'bob@example.com'"), 1);
}

TEST_F(BankHandlers, CreateUserRefusesABodyOfTheWrongShape) {
    EXPECT_EQ(client_.post("/users", {{"email", "x@example.com"}}).status(), 422);
    EXPECT_EQ(client_.post("/users", {{"email", 5}, {"name", "X"}}).status(), 422);
    EXPECT_EQ(client_.send(keel::method::post, "/users", "{not json", {{"Content-Type", "application/json"}})
                  .status(),
              422);
}

TEST_F(BankHandlers, TransferMovesTheAmountAndRecordsIt) {
    add_user("owner@example.com");
    const auto from = add_account(100), to = add_account(5);
    const auto res = client_.post("/transfers", {{"from_id", from}, {"to_id", to}, {"amount", 30}});
    ASSERT_EQ(res.status(), 201) << res;
    EXPECT_TRUE(res.json()["id"].is_number_integer());
    EXPECT_EQ(balance(from), 70);
    EXPECT_EQ(balance(to), 35);
    EXPECT_EQ(transfers(), 1);
}

TEST_F(BankHandlers, GetTransferAnswersItWithItsCreationTimeOr404) {
    add_user("owner@example.com");
    const auto from = add_account(100), to = add_account(5);
    const auto created = client_.post("/transfers", {{"from_id", from}, {"to_id", to}, {"amount", 30}});
    ASSERT_EQ(created.status(), 201) << created;
    const auto id = created.json()["id"].get<std::int64_t>();
    const auto found = client_.get("/transfers/" + std::to_string(id));
    ASSERT_EQ(found.status(), 200) << found;
    EXPECT_EQ(found.json()["amount"], 30);
    // The row's own timestamptz, as PostgreSQL holds it, written in UTC.
    const auto stored = db_.open().scalar<std::string>(
        "SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM transfers "
        "WHERE id = $1",
        id);
    auto text = found.json()["created_at"].get<std::string>();
    if (text.size() == 20) text.insert(19, ".000000");  // keel leaves out a zero fraction
    EXPECT_EQ(text, stored);
    EXPECT_EQ(client_.get("/transfers/" + std::to_string(id + 1000)).json(),
              (json{{"detail", "transfer not found"}}));
    EXPECT_EQ(client_.get("/transfers/x").status(), 422);
}

TEST_F(BankHandlers, InsufficientFundsIs409AndChangesNothing) {
    add_user("owner@example.com");
    const auto from = add_account(10), to = add_account(0);
    const auto res = client_.post("/transfers", {{"from_id", from}, {"to_id", to}, {"amount", 11}});
    EXPECT_EQ(res.status(), 409) << res;
    EXPECT_EQ(res.json(), (json{{"detail", "insufficient funds"}}));
    EXPECT_EQ(balance(from), 10);
    EXPECT_EQ(balance(to), 0);
    EXPECT_EQ(transfers(), 0);
}

TEST_F(BankHandlers, TransferToAMissingAccountIs404) {
    add_user("owner@example.com");
    const auto from = add_account(10);
    EXPECT_EQ(client_.post("/transfers", {{"from_id", from}, {"to_id", from + 1000}, {"amount", 1}}).status(),
              404);
    EXPECT_EQ(client_.post("/transfers", {{"from_id", from + 1000}, {"to_id", from}, {"amount", 1}}).status(),
              404);
    EXPECT_EQ(balance(from), 10);
}

TEST_F(BankHandlers, TransferRefusesANonPositiveAmountOrABadBody) {
    add_user("owner@example.com");
    const auto from = add_account(10), to = add_account(0);
    const auto zero = client_.post("/transfers", {{"from_id", from}, {"to_id", to}, {"amount", 0}});
    EXPECT_EQ(zero.status(), 422);
    EXPECT_EQ(zero.json()["detail"][0]["loc"], (json{"body", "amount"}));
    EXPECT_EQ(client_.post("/transfers", {{"from_id", from}, {"to_id", to}, {"amount", -5}}).status(), 422);
    EXPECT_EQ(client_.post("/transfers", {{"from_id", from}, {"to_id", to}, {"amount", "5"}}).status(), 422);
    EXPECT_EQ(client_.post("/transfers", {{"from_id", from}, {"amount", 5}}).status(), 422);
    EXPECT_EQ(balance(from), 10);
}

TEST_F(BankHandlers, TransferToOneselfChangesNoBalance) {
    add_user("owner@example.com");
    const auto account = add_account(10);
    EXPECT_EQ(client_.post("/transfers", {{"from_id", account}, {"to_id", account}, {"amount", 4}}).status(),
              201);
    EXPECT_EQ(balance(account), 10);
}

TEST_F(BankHandlers, GetAccountAnswersTheAccountOr404) {
    const auto owner = add_user("owner@example.com");
    const auto account = add_account(42);
    const auto res = client_.get("/accounts/" + std::to_string(account));
    ASSERT_EQ(res.status(), 200) << res;
    EXPECT_EQ(res.json(), (json{{"id", account}, {"owner_id", owner}, {"balance", 42}}));
    EXPECT_EQ(client_.get("/accounts/" + std::to_string(account + 1000)).status(), 404);
}

TEST_F(BankHandlers, HealthAndReadiness) {
    EXPECT_EQ(client_.get("/healthz").json(), (json{{"status", "ok"}}));
    EXPECT_EQ(client_.get("/readyz").status(), 200);
    EXPECT_EQ(client_.get("/plaintext").text(), "Hello, World!");
    EXPECT_EQ(client_.get("/json").json(), (json{{"message", "Hello, World!"}}));
}

}  // namespace
