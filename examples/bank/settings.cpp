#include "settings.hpp"

#include <keel/command_line.hpp>
#include <keel/server_options.hpp>
#include <keel/setting.hpp>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace bank {

settings settings::from_command_line(int argc, const char* const* argv) {
    settings s;
    s.database = keel::engine_options::from_environment();
    keel::command_line args(argc, argv);
    if (auto url = args.value("--database-url")) s.database.url = std::move(*url);
    if (const auto n = args.value("--pool-size"))
        s.database.pool_size = keel::parse_setting<std::size_t>("--pool-size", *n, 1, 10000);
    if (const auto n = args.value("--pool-max-overflow")) {
        s.database.max_overflow = keel::parse_setting<std::size_t>("--pool-max-overflow", *n, 0, 10000);
    }
    if (const auto n = args.value("--pool-timeout-ms")) {
        s.database.pool_timeout = std::chrono::milliseconds(
            keel::parse_setting<std::uint64_t>("--pool-timeout-ms", *n, 1, 3'600'000));
    }
    if (const char* v = std::getenv("JWT_KEY_FILE")) s.jwt_key_file = v;
    if (const char* v = std::getenv("JWT_AUDIENCE")) s.jwt_audience = v;
    if (auto file = args.value("--jwt-key-file")) s.jwt_key_file = std::move(*file);
    if (auto audience = args.value("--jwt-audience")) s.jwt_audience = std::move(*audience);
    s.seed = args.has("--seed");
    s.print_openapi = args.has("--openapi");
    s.server = keel::server_options::from_environment(args);
    // The Prometheus page on a port of its own, never the API's: a free one (logged at start)
    // unless KEEL_METRICS_PORT or --metrics-port names one.
    if (!s.server.metrics_port) s.server.metrics_port = 0;
    if (const auto unknown = args.unread(); !unknown.empty()) {
        throw std::invalid_argument(
            "unknown argument '" + unknown.front() +
            "' (flags: --database-url URL --pool-size N --pool-max-overflow N "
            "--pool-timeout-ms N --jwt-key-file F --jwt-audience A --seed --openapi, and keel's: --host H "
            "--port P "
            "--metrics-port P --io-threads N "
            "--worker-concurrency N --worker-threads N --shutdown-delay-ms N --forwarded-allow-ips A,B "
            "--tls-cert-file F --tls-key-file F --tls-port P --no-access-log "
            "--log-format text|json --log-level L)");
    }
    if (s.database.url.empty() && !s.print_openapi) {
        throw std::invalid_argument(
            "no database: set DATABASE_URL or pass --database-url "
            "(scripts/run-example starts a local PostgreSQL for you)");
    }
    return s;
}

}  // namespace bank
