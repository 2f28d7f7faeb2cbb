#pragma once

#include <keel/testing/client.hpp>
#include <keel/testing/detail/request_methods.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace keel::testing {

/// A small blocking HTTP/1.1 client over one keep-alive loopback connection, for end-to-end
/// tests against a live_server (or any server): the same helpers and responses as
/// testing::client, through a real socket. Reconnects when the server closed the connection.
/// Not thread safe: one per thread.
/// ```
/// keel::testing::live_server server(app);
/// keel::testing::http_client http(server.port());
/// EXPECT_EQ(http.get("/healthz").status(), 200);
/// ```
class http_client : public detail::request_methods<http_client> {
public:
    /// `timeout` bounds each request (connect, write, read); std::runtime_error past it.
    explicit http_client(unsigned short port, std::chrono::milliseconds timeout = std::chrono::seconds(30));
    ~http_client();
    http_client(const http_client&) = delete;
    http_client& operator=(const http_client&) = delete;

    // get, head, delete_, options, post, put and patch come from request_methods.

    /// Any method and body, exactly the header fields given (Host and Content-Length added).
    test_response send(keel::method m, std::string_view target, std::string body = {},
                       const header_map& headers = {});

private:
    struct impl;  // Beast stays in src/testing/http_client.cpp
    std::unique_ptr<impl> impl_;
};

}  // namespace keel::testing
