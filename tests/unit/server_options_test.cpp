#include <keel/server_options.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <stdexcept>

namespace {
struct scoped_env {
    const char* name;
    scoped_env(const char* n, const char* value) : name(n) { ::setenv(n, value, 1); }
    ~scoped_env() { ::unsetenv(name); }
};
}  // namespace

TEST(ServerOptionsTest, DefaultsAreSafe) {
    const keel::server_options o;
    EXPECT_EQ(o.host, "127.0.0.1");
    EXPECT_EQ(o.port, 8000);
    EXPECT_GT(o.max_header_bytes, 0u);
    EXPECT_GT(o.max_body_bytes, 0u);
    EXPECT_GT(o.header_timeout.count(), 0);
}

TEST(ServerOptionsTest, EnvironmentThenCommandLine) {
    scoped_env host("HOST", "0.0.0.0");
    scoped_env port("PORT", "9001");
    const char* argv[] = {"app", "--port", "9002", "--io-threads=3", "--no-access-log", "--app-flag", "x"};
    const auto o = keel::server_options::from_environment(7, argv);
    EXPECT_EQ(o.host, "0.0.0.0");
    EXPECT_EQ(o.port, 9002);
    EXPECT_EQ(o.io_threads, 3u);
    EXPECT_FALSE(o.access_log);
}

TEST(ServerOptionsTest, BadValuesAreNamed) {
    scoped_env port("PORT", "eighty");
    try {
        keel::server_options::from_environment();
        FAIL() << "PORT=eighty accepted";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("PORT"), std::string::npos);
    }
    const char* argv[] = {"app", "--port", "70000"};
    ::unsetenv("PORT");
    EXPECT_THROW(keel::server_options::from_environment(3, argv), std::invalid_argument);
}

TEST(ServerOptionsTest, FlagTakesValueNamesExactlyTheFlagsItReads) {
    EXPECT_EQ(keel::server_options::flag_takes_value("--port"), true);
    EXPECT_EQ(keel::server_options::flag_takes_value("--worker-concurrency"), true);
    EXPECT_EQ(keel::server_options::flag_takes_value("--no-access-log"), false);
    EXPECT_EQ(keel::server_options::flag_takes_value("--pool-size"), std::nullopt);  // the application's
    // Every flag said to take a value is read with it.
    const char* argv[] = {"app", "--host", "127.0.0.2", "--port", "9", "--io-threads", "3", "--worker-concurrency", "5",
                          "--worker-threads", "7", "--no-access-log"};
    const auto o = keel::server_options::from_environment(12, argv);
    EXPECT_EQ(o.host, "127.0.0.2");
    EXPECT_EQ(o.port, 9);
    EXPECT_EQ(o.io_threads, 3u);
    EXPECT_EQ(o.worker_concurrency, 5u);
    EXPECT_EQ(o.worker_threads, 7u);
    EXPECT_FALSE(o.access_log);
}
