#include "settings.hpp"

#include <keel/param_parser.hpp>
#include <keel/server_options.hpp>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace bank {

namespace {

// keel's own parser for numbers (the one path and query parameters use), with a range.
std::size_t parse_count(std::string_view flag, std::string_view text, std::size_t max = 10000) {
    keel::parse_failure why;
    const auto value = keel::param_parser<std::size_t>::parse(text, why);
    if (!value || *value > max) {
        throw std::invalid_argument(std::string(flag) + " must be a number from 0 to " + std::to_string(max) + ", got '" +
                                    std::string(text) + "'");
    }
    return *value;
}

}  // namespace

settings settings::from_command_line(int argc, const char* const* argv) {
    settings s;
    s.database = keel::engine_options::from_environment();
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        std::string_view flag = arg;
        std::optional<std::string_view> value;
        if (const auto eq = arg.find('='); eq != std::string_view::npos) {
            flag = arg.substr(0, eq);
            value = arg.substr(eq + 1);
        }
        const auto take_value = [&]() -> std::string_view {
            if (value) return *value;
            if (i + 1 >= argc) throw std::invalid_argument(std::string(flag) + " needs a value");
            return argv[++i];
        };
        if (flag == "--database-url") {
            s.database.url = take_value();
        } else if (flag == "--pool-size") {
            s.database.pool_size = parse_count(flag, take_value());
            if (s.database.pool_size == 0) throw std::invalid_argument("--pool-size must be at least 1");
        } else if (flag == "--pool-max-overflow") {
            s.database.max_overflow = parse_count(flag, take_value());
        } else if (flag == "--pool-timeout-ms") {
            s.database.pool_timeout = std::chrono::milliseconds(parse_count(flag, take_value(), 3'600'000));
            if (s.database.pool_timeout.count() == 0) throw std::invalid_argument("--pool-timeout-ms must be at least 1");
        } else if (flag == "--seed" && !value) {
            s.seed = true;
        } else if (const auto server_flag = keel::server_options::flag_takes_value(flag)) {
            if (*server_flag) take_value();  // keel::app::run reads it
        } else {
            throw std::invalid_argument("unknown argument '" + std::string(arg) +
                                        "' (flags: --database-url URL --pool-size N --pool-max-overflow N "
                                        "--pool-timeout-ms N --seed "
                                        "--host H --port P --io-threads N --worker-concurrency N --worker-threads N --no-access-log)");
        }
    }
    if (s.database.url.empty()) {
        throw std::invalid_argument("no database: set DATABASE_URL or pass --database-url "
                                    "(scripts/run-example starts a local PostgreSQL for you)");
    }
    return s;
}

}  // namespace bank
