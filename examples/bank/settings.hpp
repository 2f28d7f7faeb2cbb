#pragma once

#include <keel/engine.hpp>
#include <keel/server_options.hpp>

#include <string>

namespace bank {

/// The bank's configuration: the database and its pool, from the environment (`DATABASE_URL`,
/// `POOL_SIZE`, `POOL_MAX_OVERFLOW`, `POOL_TIMEOUT_MS`) and its admin tokens' key (`JWT_KEY_FILE`,
/// `JWT_AUDIENCE`), overridden by the command line (`--database-url URL`, `--pool-size N`,
/// `--pool-max-overflow N`, `--pool-timeout-ms N`, `--jwt-key-file F`, `--jwt-audience A`,
/// `--seed`, `--openapi`), and the server's (keel::server_options: `PORT`, `--port`, `--host`,
/// ...), with the metrics on a port of their own (a free one unless `KEEL_METRICS_PORT` or
/// `--metrics-port` names one).
struct settings {
    keel::engine_options database;
    keel::server_options server;
    /// The key that verifies GET /admin/ledger's bearer tokens (`JWT_KEY_FILE`, `--jwt-key-file`):
    /// a PEM public key (RS256/ES256) or a file holding an HS256 secret. Without one that
    /// endpoint answers 503.
    std::string jwt_key_file;
    /// When set (`JWT_AUDIENCE`, `--jwt-audience`), a token's `aud` must hold it.
    std::string jwt_audience;
    bool seed = false;           ///< replace the data with the reference contract's seed at start-up
    bool print_openapi = false;  ///< print the OpenAPI document and exit (needs no database)

    /// Throws std::invalid_argument naming a bad or unknown flag, or a missing database URL.
    static settings from_command_line(int argc, const char* const* argv);
};

}  // namespace bank
