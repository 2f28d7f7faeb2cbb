#include <keel/testing/http_client.hpp>

#include <sys/socket.h>
#include <sys/time.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/dynamic_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <limits>
#include <optional>
#include <stdexcept>

namespace keel::testing {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

struct http_client::impl {
    unsigned short port;
    std::chrono::milliseconds timeout;
    asio::io_context io;
    std::optional<tcp::socket> socket;
    boost::beast::flat_buffer buffer;

    void connect() {
        socket.emplace(io);
        socket->connect(tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), port));
        // Blocking reads and writes give up after the timeout instead of hanging a test.
        timeval tv{};
        tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
        tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
        ::setsockopt(socket->native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(socket->native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        buffer.clear();
    }

    response exchange(http::request<http::string_body>& req) {
        if (!socket) connect();
        http::write(*socket, req);
        http::response_parser<http::string_body> parser;
        parser.body_limit(std::numeric_limits<std::uint64_t>::max());
        parser.skip(req.method() == http::verb::head);
        http::read(*socket, buffer, parser);
        auto& res = parser.get();
        response out(static_cast<keel::status>(res.result_int()), std::move(res.body()));
        for (const auto& field : res) out.headers().add(field.name_string(), field.value());
        if (!res.keep_alive()) socket.reset();
        return out;
    }
};

http_client::http_client(unsigned short port, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<impl>()) {
    impl_->port = port;
    impl_->timeout = timeout;
}

http_client::~http_client() = default;

test_response http_client::send(keel::method m, std::string_view target, std::string body,
                                const header_map& headers) {
    http::request<http::string_body> req(http::string_to_verb(to_string(m)), target, 11);
    req.set(http::field::host, "127.0.0.1:" + std::to_string(impl_->port));
    for (const auto& [name, value] : headers) req.insert(name, value);
    req.body() = std::move(body);
    if (!req.body().empty() || m == method::post || m == method::put || m == method::patch)
        req.prepare_payload();
    const bool reused = impl_->socket.has_value();
    try {
        return test_response(impl_->exchange(req));
    } catch (const boost::system::system_error& e) {
        impl_->socket.reset();
        // A kept-alive connection the server had closed before reading this request: one
        // fresh attempt. Anything else (a timeout, a reset mid-answer) is the test's failure.
        const auto ec = e.code();
        const bool stale = reused && (ec == http::error::end_of_stream ||
                                      ec == asio::error::connection_reset || ec == asio::error::broken_pipe);
        if (!stale) {
            throw std::runtime_error("keel::testing::http_client: " + std::string(to_string(m)) + " " +
                                     std::string(target) + ": " + e.what());
        }
    }
    return test_response(impl_->exchange(req));
}

}  // namespace keel::testing
