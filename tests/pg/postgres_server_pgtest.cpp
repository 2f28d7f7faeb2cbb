#include <keel/testing/postgres_server.hpp>

#include <gtest/gtest.h>
#include <keel/testing/postgres_environment.hpp>
#include <pqxx/pqxx>

#include <cstdlib>
#include <string>

using keel::testing::postgres_environment;

TEST(PostgresServerTest, AnswersQueries) {
    pqxx::connection conn(postgres_environment::server().url());
    pqxx::work tx(conn);
    EXPECT_EQ(tx.exec1("SELECT 1 + 1")[0].as<int>(), 2);
    EXPECT_EQ(tx.exec1("SHOW server_version_num")[0].as<std::string>().substr(0, 2), "15");
}

TEST(PostgresServerTest, DurabilityIsOffForSpeedWhenKeelStartedIt) {
    if (!postgres_environment::server().owned()) {
        GTEST_SKIP() << "KEEL_TEST_DATABASE_URL's server is not ours to tune";
    }
    pqxx::connection conn(postgres_environment::server().url());
    pqxx::work tx(conn);
    EXPECT_EQ(tx.exec1("SHOW fsync")[0].as<std::string>(), "off");
    EXPECT_EQ(tx.exec1("SHOW synchronous_commit")[0].as<std::string>(), "off");
    EXPECT_EQ(tx.exec1("SHOW full_page_writes")[0].as<std::string>(), "off");
}

TEST(PostgresServerTest, OtherDatabasesAreReachable) {
    {
        pqxx::connection admin(postgres_environment::server().url());
        pqxx::nontransaction(admin).exec("CREATE DATABASE keel_fixture_check");
    }
    {
        pqxx::connection other(postgres_environment::server().url_for("keel_fixture_check"));
        EXPECT_EQ(std::string(other.dbname()), "keel_fixture_check");
    }
    pqxx::connection admin(postgres_environment::server().url());
    pqxx::nontransaction(admin).exec("DROP DATABASE keel_fixture_check");
}

TEST(PostgresServerTest, ASecondServerStartsAndStopsForGood) {
    if (std::getenv("KEEL_TEST_DATABASE_URL")) GTEST_SKIP() << "only servers keel starts are stopped by it";
    keel::testing::postgres_server second;
    second.start();
    const auto url = second.url();
    ASSERT_NE(url, postgres_environment::server().url());
    {
        pqxx::connection conn(url);
        EXPECT_TRUE(conn.is_open());
    }
    second.stop();
    EXPECT_THROW(pqxx::connection{url}, pqxx::broken_connection);
}
