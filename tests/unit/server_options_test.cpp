#include <keel/server_options.hpp>

#include <keel/command_line.hpp>
#include <keel/engine.hpp>
#include <keel/setting.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

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

TEST(ServerOptionsTest, ItMarksTheFlagsItReadsAndLeavesTheRestForTheApplication) {
    const char* argv[] = {"app",         "--host",
                          "127.0.0.2",   "--port",
                          "9",           "--io-threads=3",
                          "--seed",      "--worker-concurrency",
                          "5",           "--worker-threads",
                          "7",           "--no-access-log",
                          "--pool-size", "4"};
    keel::command_line args(14, argv);
    const auto o = keel::server_options::from_environment(args);
    EXPECT_EQ(o.host, "127.0.0.2");
    EXPECT_EQ(o.port, 9);
    EXPECT_EQ(o.io_threads, 3u);
    EXPECT_EQ(o.worker_concurrency, 5u);
    EXPECT_EQ(o.worker_threads, 7u);
    EXPECT_FALSE(o.access_log);
    EXPECT_EQ(args.unread(), (std::vector<std::string>{"--seed", "--pool-size", "4"}));
    EXPECT_EQ(args.value("--pool-size"), "4");
    EXPECT_TRUE(args.has("--seed"));
    EXPECT_TRUE(args.unread().empty());
}

TEST(ServerOptionsTest, EveryNumericSettingSaysTheSameThing) {
    const char* argv[] = {"app", "--port", "-1"};
    try {
        keel::server_options::from_environment(3, argv);
        FAIL() << "--port -1 accepted";
    } catch (const std::invalid_argument& e) {
        EXPECT_STREQ(e.what(), "keel: --port must be a whole number from 0 to 65535, got '-1'");
    }
    try {
        keel::parse_setting<std::size_t>("POOL_SIZE", "0", 1, 10000);
        FAIL() << "POOL_SIZE=0 accepted";
    } catch (const std::invalid_argument& e) {
        EXPECT_STREQ(e.what(), "keel: POOL_SIZE must be a whole number from 1 to 10000, got '0'");
    }
    EXPECT_THROW(keel::parse_setting_flag("KEEL_ACCESS_LOG", "maybe"), std::invalid_argument);
    EXPECT_FALSE(keel::parse_setting_flag("KEEL_ACCESS_LOG", "OFF"));
    const char* missing[] = {"app", "--port"};
    keel::command_line args(2, missing);
    EXPECT_THROW(args.value("--port"), std::invalid_argument);
}

TEST(ServerOptionsTest, MetricsPortAndShutdownDelay) {
    EXPECT_FALSE(keel::server_options{}.metrics_port.has_value()) << "no metrics listener unless asked";
    EXPECT_EQ(keel::server_options{}.shutdown_delay.count(), 0) << "the listener closes at once by default";
    scoped_env metrics("KEEL_METRICS_PORT", "9464");
    scoped_env delay("KEEL_SHUTDOWN_DELAY_MS", "5000");
    auto o = keel::server_options::from_environment();
    EXPECT_EQ(o.metrics_port, 9464);
    EXPECT_EQ(o.shutdown_delay.count(), 5000);
    const char* argv[] = {"app", "--metrics-port=0", "--shutdown-delay-ms", "250"};
    o = keel::server_options::from_environment(4, argv);
    EXPECT_EQ(o.metrics_port, 0) << "0 picks a free port";
    EXPECT_EQ(o.shutdown_delay.count(), 250);
    const char* bad[] = {"app", "--shutdown-delay-ms", "-1"};
    EXPECT_THROW(keel::server_options::from_environment(3, bad), std::invalid_argument);
}

TEST(ServerOptionsTest, LogFormatAndLevel) {
    EXPECT_FALSE(keel::server_options{}.log_format.has_value()) << "unset: as the app configured it";
    EXPECT_FALSE(keel::server_options{}.log_level.has_value());
    scoped_env format("KEEL_LOG_FORMAT", "json");
    scoped_env level("KEEL_LOG_LEVEL", "warn");
    auto o = keel::server_options::from_environment();
    EXPECT_EQ(o.log_format, keel::log_format::json);
    EXPECT_EQ(o.log_level, keel::log_level::warning) << "\"warn\" is read as warning";
    const char* argv[] = {"app", "--log-format=text", "--log-level", "off"};
    o = keel::server_options::from_environment(4, argv);
    EXPECT_EQ(o.log_format, keel::log_format::text) << "the flag wins over the environment";
    EXPECT_EQ(o.log_level, keel::log_level::off);

    const char* bad_format[] = {"app", "--log-format", "xml"};
    try {
        keel::server_options::from_environment(3, bad_format);
        FAIL() << "--log-format xml accepted";
    } catch (const std::invalid_argument& e) {
        EXPECT_STREQ(e.what(), "keel: --log-format must be one of text, json, got 'xml'");
    }
    scoped_env bad_level("KEEL_LOG_LEVEL", "loud");
    try {
        keel::server_options::from_environment();
        FAIL() << "KEEL_LOG_LEVEL=loud accepted";
    } catch (const std::invalid_argument& e) {
        EXPECT_STREQ(e.what(),
                     "keel: KEEL_LOG_LEVEL must be one of debug, info, warning, error, off, got 'loud'");
    }
}

TEST(ServerOptionsTest, EngineOptionsFromTheEnvironment) {
    const keel::engine_options defaults;
    EXPECT_EQ(defaults.leak_threshold.count(), 5000) << "a few seconds by default";
    EXPECT_EQ(defaults.slow_statement_threshold.count(), 1000);
    EXPECT_FALSE(defaults.log_statement_parameters);
    scoped_env timeout("POOL_TIMEOUT_MS", "250");
    scoped_env leak("KEEL_LEAK_THRESHOLD_MS", "0");
    scoped_env slow("KEEL_SLOW_STATEMENT_MS", "40");
    const auto o = keel::engine_options::from_environment();
    EXPECT_EQ(o.pool_timeout.count(), 250);
    EXPECT_EQ(o.leak_threshold.count(), 0) << "0 turns the leak watch off";
    EXPECT_EQ(o.slow_statement_threshold.count(), 40);
    scoped_env bad("KEEL_SLOW_STATEMENT_MS", "-5");
    try {
        keel::engine_options::from_environment();
        FAIL() << "KEEL_SLOW_STATEMENT_MS=-5 accepted";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("KEEL_SLOW_STATEMENT_MS"), std::string::npos) << e.what();
    }
}
