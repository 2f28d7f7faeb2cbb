#pragma once

#include <keel/server_options.hpp>

#include <memory>

namespace keel {

/// Accepts connections and drives every request through an app.
///
/// HTTP/1.1 and 1.0, keep-alive, pipelining (answered in order), chunked request bodies,
/// `Expect: 100-continue`. Message framing follows RFC 9112 strictly: a request whose length
/// is ambiguous (Content-Length with Transfer-Encoding, several Content-Lengths, a coding other
/// than a final `chunked`) is answered 400 and the connection closed, so nothing can be smuggled.
///
/// On stop() it refuses new connections, closes idle keep-alive connections, lets requests in
/// flight finish for up to `options.drain_timeout`, then closes what is left.
class server {
public:
    /// Builds `application` (see app::build) and binds the listening socket; throws on failure.
    server(app& application, server_options options);
    ~server();                       // stops and joins; never throws
    server(const server&) = delete;  // threads hold `this`: no copies, no moves
    server& operator=(const server&) = delete;

    /// Serves until stop() has finished draining. Blocks; call it from one thread.
    void run();
    /// Begins a graceful shutdown. Safe to call from any thread, any number of times.
    void stop() noexcept;
    /// The port actually bound (useful with port 0).
    unsigned short port() const noexcept;
    /// The metrics listener's port (server_options::metrics_port); 0 when there is none.
    unsigned short metrics_port() const noexcept;
    /// The port serving HTTPS: tls_port's, or port() when TLS is on the main port; 0 without TLS.
    unsigned short tls_port() const noexcept;

private:
    struct impl;  // Asio and Beast live in src/server.cpp
    std::unique_ptr<impl> impl_;
};

}  // namespace keel
