#pragma once

#include <keel/engine.hpp>
#include <keel/server_options.hpp>

namespace bank {

/// The bank's configuration: the database and its pool, from the environment (`DATABASE_URL`,
/// `POOL_SIZE`, `POOL_MAX_OVERFLOW`, `POOL_TIMEOUT_MS`), overridden by the command line
/// (`--database-url URL`, `--pool-size N`, `--pool-max-overflow N`, `--pool-timeout-ms N`,
/// `--seed`, `--openapi`), and the server's (keel::server_options: `PORT`, `--port`, `--host`,
/// ...), with the metrics on a port of their own (a free one unless `KEEL_METRICS_PORT` or
/// `--metrics-port` names one).
struct settings {
    keel::engine_options database;
    keel::server_options server;
    bool seed = false;           ///< replace the data with the reference contract's seed at start-up
    bool print_openapi = false;  ///< print the OpenAPI document and exit (needs no database)

    /// Throws std::invalid_argument naming a bad or unknown flag, or a missing database URL.
    static settings from_command_line(int argc, const char* const* argv);
};

}  // namespace bank
