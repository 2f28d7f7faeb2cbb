#pragma once

#include <keel/app.hpp>
#include <keel/server.hpp>
#include <keel/server_options.hpp>

#include <memory>
#include <string>
#include <thread>

namespace keel::testing {

/// Runs the real server for an app on an ephemeral loopback port, on a background thread,
/// for tests that need real sockets. Ready as soon as it is constructed (the socket is
/// listening); stopped gracefully and joined when destroyed.
class live_server {
public:
    /// Serves `application` with `options` (start from quiet_options() to change a limit);
    /// the port is always an ephemeral one.
    explicit live_server(app& application, server_options options = quiet_options());
    ~live_server();
    live_server(const live_server&) = delete;
    live_server& operator=(const live_server&) = delete;

    unsigned short port() const noexcept { return server_->port(); }
    /// "http://127.0.0.1:PORT"
    std::string url() const;
    /// Begins a graceful shutdown and waits until the server has finished.
    void stop();
    /// Waits until the server has finished (after stop(), or a shutdown begun elsewhere).
    void join();
    keel::server& server() noexcept { return *server_; }

    /// 127.0.0.1, port 0, two I/O threads, no access log, no signal handling.
    static server_options quiet_options();

private:
    std::unique_ptr<keel::server> server_;
    std::thread thread_;
};

}  // namespace keel::testing
