#include <keel/testing/ports.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <fstream>
#include <random>
#include <stdexcept>

namespace keel::testing {

namespace {

// Binds 127.0.0.1:`port` (0: any) and returns the port bound, or 0 when it is taken.
unsigned short try_bind(unsigned short port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error("keel::testing::free_loopback_port: no socket");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    socklen_t len = sizeof addr;
    const bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                       ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
    ::close(fd);
    return bound ? ntohs(addr.sin_port) : 0;
}

// The first port of the kernel's ephemeral range, which outgoing connections take from.
unsigned short ephemeral_start() {
    std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
    unsigned low = 0;
    if (!(range >> low) || low > 65535) return 0;
    return static_cast<unsigned short>(low);
}

}  // namespace

unsigned short free_loopback_port() {
    // Below the ephemeral range when there is room: a port handed out there is not taken again
    // by some outgoing connection (a proxy's, a pool's) before the server under test binds it,
    // nor while that server restarts on it.
    const unsigned short start = ephemeral_start();
    if (start > 12000) {
        thread_local std::minstd_rand random(std::random_device{}());
        std::uniform_int_distribution<unsigned> pick(10000, start - 1u);
        for (int attempt = 0; attempt < 100; ++attempt) {
            if (const auto port = try_bind(static_cast<unsigned short>(pick(random)))) return port;
        }
    }
    if (const auto port = try_bind(0)) return port;
    throw std::runtime_error("keel::testing::free_loopback_port: no free loopback port");
}

}  // namespace keel::testing
