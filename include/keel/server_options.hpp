#pragma once

#include <keel/logger.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace keel {

class app;
class command_line;

/// How the server listens, how many threads it runs, and the limits that protect it.
/// Every limit has a safe default; the comments say what a client that exceeds it gets.
struct server_options {
    std::string host = "127.0.0.1";
    unsigned short port = 8000;  ///< 0 picks a free port (see server::port())

    /// A second listener, on `host`, that serves only the Prometheus page (keel::metrics) at GET
    /// `metrics_path`, away from the app's own port and its clients; unset: none, 0 picks a free
    /// port (see server::metrics_port()).
    std::optional<unsigned short> metrics_port;
    std::string metrics_path = "/metrics";

    unsigned io_threads = 0;  ///< threads that accept, parse, route and write; 0 = one per core
    /// Blocking handlers run on a worker pool. `worker_concurrency` of them run at once while
    /// they keep finishing (0 = two per core, at least 4: few threads make short database
    /// round trips fastest); when every running one is blocked for a few milliseconds (slow
    /// queries, locks, sleeps) more are let in, up to `worker_threads`, and fewer again once
    /// work flows. A database pool larger than worker_concurrency is used as load requires.
    unsigned worker_concurrency = 0;
    unsigned worker_threads = 0;            ///< the most threads running blocking handlers; 0 = 64
    std::size_t worker_queue_limit = 4096;  ///< blocking handlers waiting for a worker; beyond: 503

    std::size_t max_header_bytes = std::size_t{16} * 1024;  ///< request line + header fields; beyond: 431
    std::size_t max_body_bytes = std::size_t{1024} * 1024;  ///< request body, chunked or not; beyond: 413
    std::size_t max_connections = 10000;                    ///< beyond: new connections wait in the backlog

    std::chrono::milliseconds header_timeout{10'000};  ///< first byte to end of headers; then closed
    std::chrono::milliseconds body_timeout{30'000};    ///< to receive the body; then closed
    std::chrono::milliseconds idle_timeout{60'000};    ///< keep-alive wait for the next request
    std::chrono::milliseconds write_timeout{30'000};   ///< to send a response
    /// Every request's deadline, from its first byte (keel::request::deadline; a route may set
    /// its own with keel::route::timeout). It bounds the wait for a worker and, through the
    /// sessions, for a pooled connection and each statement: past it, 503 (still waiting for
    /// capacity) or 504 (the database was too slow), with nothing committed. 0: no deadline.
    std::chrono::milliseconds request_timeout{30'000};
    std::chrono::milliseconds drain_timeout{
        10'000};  ///< graceful shutdown: in-flight requests' time to finish
    /// Graceful shutdown begins with this pre-stop delay: the app reports itself draining
    /// (keel's /readyz answers 503) while the listener stays open and requests are served as
    /// usual, so that a load balancer stops sending traffic; then the listener closes and
    /// in-flight requests drain. 0 (the default): the listener closes at once.
    std::chrono::milliseconds shutdown_delay{0};

    /// HTTPS: the certificate chain (PEM, the server's certificate first) and its private key.
    /// With both set the server speaks TLS 1.2 and 1.3 (forward-secret AEAD ciphers only) on
    /// `tls_port`, or on `port` when tls_port is unset. Both files are looked at about once a
    /// second and on SIGHUP (with handle_signals): a renewed pair serves new connections without
    /// a restart; one that fails to load is logged and the old stays. A handshake is bound by
    /// header_timeout; anything but TLS on that port is closed without an answer.
    std::string tls_certificate_file{};
    std::string tls_key_file{};
    /// A second listener, on `host`, for HTTPS beside `port`'s plain HTTP; 0 picks a free port
    /// (see server::tls_port()).
    std::optional<unsigned short> tls_port;
    /// The proxies whose `Forwarded` / `X-Forwarded-For` / `X-Forwarded-Proto` are believed:
    /// addresses or networks ("127.0.0.1", "10.0.0.0/8", "::1", "fd00::/8"), or "*" for any peer
    /// (only when nothing else can reach the port). From a trusted peer the client's address is
    /// the nearest one the header names that is not itself trusted, and its scheme the nearest
    /// proxy's `proto` (keel::request::client_address, secure); from any other peer the headers
    /// are ignored. Empty (the default): none trusted. uvicorn's `--forwarded-allow-ips`.
    std::vector<std::string> forwarded_allow_ips{};
    /// Where the trusted proxies name the client: `X-Forwarded-For` and `X-Forwarded-Proto` (what
    /// nginx, HAProxy's `option forwardfor` and cloud load balancers write), or RFC 7239's
    /// `Forwarded`. Only that one is read: the other is whatever the client sent, passed through.
    enum class forwarded_header { x_forwarded_for, forwarded };
    forwarded_header forwarded_from = forwarded_header::x_forwarded_for;
    std::string server_header = "keel";  ///< the `Server` field; empty leaves it out
    bool access_log = true;              ///< one line per request through app.logger(), once answered
    /// Set on app.logger() when the server is made (see keel::logger::set_format and
    /// set_level); unset: as the app configured it (text, info and above, by default).
    std::optional<keel::log_format> log_format;
    std::optional<keel::log_level> log_level;
    bool handle_signals = false;  ///< SIGINT/SIGTERM stop gracefully, a second one exits (app::run sets it)

    /// Defaults overridden by the environment (`HOST`, `PORT`, `KEEL_METRICS_PORT`, `KEEL_IO_THREADS`,
    /// `FORWARDED_ALLOW_IPS=a,b`, `KEEL_FORWARDED_HEADER=x-forwarded-for|forwarded`, `KEEL_TLS_CERT_FILE`,
    /// `KEEL_TLS_KEY_FILE`, `KEEL_TLS_PORT`, `KEEL_WORKER_CONCURRENCY`, `KEEL_WORKER_THREADS`,
    /// `KEEL_REQUEST_TIMEOUT_MS`, `KEEL_SHUTDOWN_DELAY_MS`, `KEEL_ACCESS_LOG=0`, `KEEL_LOG_FORMAT=text|json`,
    /// `KEEL_LOG_LEVEL=debug|info|warning|error|off`), then by the command line (`--host H`, `--port P`,
    /// `--metrics-port P`, `--io-threads N`,
    /// `--worker-concurrency N`, `--worker-threads N`, `--request-timeout-ms N`, `--shutdown-delay-ms N`,
    /// `--forwarded-allow-ips a,b`, `--forwarded-header H`, `--tls-cert-file F`, `--tls-key-file F`,
    /// `--tls-port P`,
    /// `--no-access-log`,
    /// `--log-format F`, `--log-level L`; `--flag=value` works too). Other arguments are left for the
    /// application. Throws std::invalid_argument naming the bad value.
    static server_options from_environment(int argc = 0, const char* const* argv = nullptr);
    /// The same, reading (and marking read) keel's flags of `args`: an application that reads
    /// its own flags from the same keel::command_line then refuses whatever is left unread.
    static server_options from_environment(command_line& args);
};

}  // namespace keel
