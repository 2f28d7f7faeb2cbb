#pragma once

// A deliberately dumb HTTP client over a plain TCP socket: it sends exactly the bytes a test
// gives it (malformed, pipelined, trickled) and reads responses back with a deadline.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace keel_test {

using namespace std::chrono_literals;

struct raw_response {
    int status = 0;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;

    std::optional<std::string> header(std::string_view name) const;
};

class raw_client {
public:
    explicit raw_client(unsigned short port);
    ~raw_client();
    raw_client(const raw_client&) = delete;
    raw_client& operator=(const raw_client&) = delete;

    /// False when the peer has already closed or reset the connection.
    bool send(std::string_view bytes);
    /// One response framed by Content-Length (no body for HEAD, 1xx, 204, 304); nullopt when
    /// the connection closed first or `timeout` passed.
    std::optional<raw_response> read_response(std::chrono::milliseconds timeout = 5s,
                                              bool head_request = false);
    /// Whether the server closed the connection within `timeout` (reading and dropping data).
    bool closed_within(std::chrono::milliseconds timeout);
    /// Whatever arrives within `timeout` (nothing is an empty string).
    std::string read_available(std::chrono::milliseconds timeout);

private:
    // Reads more into buffer_; false on close, error or timeout.
    bool fill(std::chrono::steady_clock::time_point deadline);

    int fd_ = -1;
    std::string buffer_;
    bool closed_ = false;
};

/// "GET <target> HTTP/1.1\r\nHost: test\r\n<extra>\r\n"
std::string get_request(std::string_view target, std::string_view extra_headers = {});

}  // namespace keel_test
