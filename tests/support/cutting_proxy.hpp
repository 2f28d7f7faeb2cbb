#pragma once

// A TCP proxy in front of a server, whose connections a test can cut at once: both sides see
// the socket close, and nothing more crosses. What a network failure looks like to libpq (no
// error from the server, the connection just ends), unlike pg_terminate_backend, whose backend
// says why it goes.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <mutex>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace keel_test {

class cutting_proxy {
public:
    /// Forwards to 127.0.0.1:`upstream_port`.
    explicit cutting_proxy(unsigned short upstream_port) : upstream_port_(upstream_port) {
        listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t size = sizeof address;
        if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&address), size) != 0 ||
            ::listen(listener_, 16) != 0 ||
            ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
            if (listener_ >= 0) ::close(listener_);
            throw std::runtime_error("cutting_proxy: cannot listen");
        }
        port_ = ntohs(address.sin_port);
        acceptor_ = std::thread([this] { accept_loop(); });
    }
    cutting_proxy(const cutting_proxy&) = delete;
    cutting_proxy& operator=(const cutting_proxy&) = delete;
    ~cutting_proxy() {
        stopping_ = true;
        cut();
        ::shutdown(listener_, SHUT_RDWR);
        acceptor_.join();
        ::close(listener_);
        for (auto& t : pumps_) t.join();
    }

    unsigned short port() const noexcept { return port_; }

    /// `url` (a libpq URL naming 127.0.0.1:PORT) through this proxy; the proxy's upstream is
    /// that PORT.
    static unsigned short port_of(const std::string& url) {
        std::smatch m;
        if (!std::regex_search(url, m, std::regex(R"(@127\.0\.0\.1:(\d+)/)")))
            throw std::runtime_error("cutting_proxy: not a 127.0.0.1 URL: " + url);
        return static_cast<unsigned short>(std::stoi(m[1].str()));
    }
    std::string url_through(const std::string& url) const {
        return std::regex_replace(url, std::regex(R"(@127\.0\.0\.1:\d+/)"),
                                  "@127.0.0.1:" + std::to_string(port_) + "/");
    }

    /// Cuts every connection open now: both of its sockets are shut down.
    void cut() {
        std::lock_guard lock(mutex_);
        for (int fd : open_) ::shutdown(fd, SHUT_RDWR);
    }

private:
    void accept_loop() {
        while (!stopping_) {
            const int client = ::accept(listener_, nullptr, nullptr);
            if (client < 0 && errno == EINTR) continue;
            if (client < 0) return;
            const int server = ::socket(AF_INET, SOCK_STREAM, 0);
            sockaddr_in address{};
            address.sin_family = AF_INET;
            address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            address.sin_port = htons(upstream_port_);
            if (server < 0 || ::connect(server, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
                ::close(client);
                if (server >= 0) ::close(server);
                continue;
            }
            std::lock_guard lock(mutex_);
            open_.push_back(client);
            open_.push_back(server);
            pumps_.emplace_back([this, client, server] { pump(client, server); });
        }
    }

    // Copies bytes both ways until either side closes (or is cut), then closes both.
    void pump(int a, int b) {
        char buffer[16384];
        pollfd fds[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
        for (;;) {
            const int ready = ::poll(fds, 2, 1000);
            if (ready < 0 && errno == EINTR) continue;
            if (ready < 0) break;
            if (stopping_) break;
            bool done = false;
            for (int i = 0; i < 2 && !done; ++i) {
                if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
                const auto got = ::recv(fds[i].fd, buffer, sizeof buffer, 0);
                done = got <= 0 ||
                       ::send(fds[1 - i].fd, buffer, static_cast<std::size_t>(got), MSG_NOSIGNAL) != got;
            }
            if (done) break;
        }
        std::lock_guard lock(mutex_);
        std::erase(open_, a);
        std::erase(open_, b);
        ::close(a);
        ::close(b);
    }

    unsigned short upstream_port_;
    unsigned short port_ = 0;
    int listener_ = -1;
    std::atomic<bool> stopping_{false};
    std::mutex mutex_;
    std::vector<int> open_;  // both sockets of every connection
    std::vector<std::thread> pumps_;
    std::thread acceptor_;
};

}  // namespace keel_test
