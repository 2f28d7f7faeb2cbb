#include "raw_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cctype>
#include <cerrno>
#include <stdexcept>

namespace keel_test {

namespace {
bool iequal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i]))) {
            return false;
        }
    }
    return true;
}
}  // namespace

std::optional<std::string> raw_response::header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
        if (iequal(k, name)) return v;
    }
    return std::nullopt;
}

raw_client::raw_client(unsigned short port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("socket() failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd_);
        throw std::runtime_error("connect() failed");
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

raw_client::~raw_client() {
    if (fd_ >= 0) ::close(fd_);
}

bool raw_client::send(std::string_view bytes) {
    while (!bytes.empty()) {
        const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

bool raw_client::fill(std::chrono::steady_clock::time_point deadline) {
    if (closed_) return false;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        pollfd p{fd_, POLLIN, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) return false;
        char chunk[16384];
        const auto n = ::recv(fd_, chunk, sizeof chunk, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            closed_ = true;
            return false;
        }
        buffer_.append(chunk, static_cast<std::size_t>(n));
        return true;
    }
}

std::optional<raw_response> raw_client::read_response(std::chrono::milliseconds timeout, bool head_request) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::size_t end_of_header;
    while ((end_of_header = buffer_.find("\r\n\r\n")) == std::string::npos) {
        if (!fill(deadline)) return std::nullopt;
    }
    raw_response res;
    const std::string head = buffer_.substr(0, end_of_header);
    buffer_.erase(0, end_of_header + 4);
    const auto first_line_end = head.find("\r\n");
    const std::string status_line = head.substr(0, first_line_end);
    if (status_line.size() < 12 || status_line.rfind("HTTP/1.", 0) != 0) return std::nullopt;
    res.status = std::stoi(status_line.substr(9, 3));
    std::size_t pos = first_line_end == std::string::npos ? head.size() : first_line_end + 2;
    while (pos < head.size()) {
        auto line_end = head.find("\r\n", pos);
        if (line_end == std::string::npos) line_end = head.size();
        const std::string line = head.substr(pos, line_end - pos);
        const auto colon = line.find(':');
        if (colon != std::string::npos) {
            std::string value = line.substr(colon + 1);
            while (!value.empty() && value.front() == ' ') value.erase(0, 1);
            res.headers.emplace_back(line.substr(0, colon), value);
        }
        pos = line_end + 2;
    }
    const bool bodiless = head_request || res.status < 200 || res.status == 204 || res.status == 304;
    if (!bodiless) {
        const auto length = res.header("Content-Length");
        if (length) {
            const auto n = std::stoul(*length);
            while (buffer_.size() < n) {
                if (!fill(deadline)) return std::nullopt;
            }
            res.body = buffer_.substr(0, n);
            buffer_.erase(0, n);
        } else {
            while (fill(deadline)) {
            }
            res.body = std::move(buffer_);
            buffer_.clear();
        }
    }
    return res;
}

bool raw_client::closed_within(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (fill(deadline)) buffer_.clear();
    return closed_;
}

std::string raw_client::read_available(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (fill(deadline)) {
    }
    return std::exchange(buffer_, {});
}

std::string get_request(std::string_view target, std::string_view extra_headers) {
    std::string r = "GET ";
    r += target;
    r += " HTTP/1.1\r\nHost: test\r\n";
    r += extra_headers;
    r += "\r\n";
    return r;
}

}  // namespace keel_test
