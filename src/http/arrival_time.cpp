#include "http/arrival_time.hpp"

#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <ctime>

namespace keel::detail {

bool stamp_arrivals(int socket) noexcept {
    const int flags = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;
    return ::setsockopt(socket, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof flags) == 0;
}

received receive_stamped(int socket, void* data, std::size_t size) noexcept {
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(scm_timestamping))];
    iovec span{data, size};
    msghdr message{};
    message.msg_iov = &span;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    received out;
    out.bytes = ::recvmsg(socket, &message, MSG_DONTWAIT);
    if (out.bytes < 0) {
        out.error = errno;
        return out;
    }
    for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SO_TIMESTAMPING) continue;
        scm_timestamping stamps{};
        std::memcpy(&stamps, CMSG_DATA(c), sizeof stamps);
        const auto& stamp = stamps.ts[0];  // the software stamp, on the realtime clock
        if (stamp.tv_sec == 0 && stamp.tv_nsec == 0) break;
        // The stamp's age, on the realtime clock, moved onto the steady one (read close together).
        timespec now{};
        ::clock_gettime(CLOCK_REALTIME, &now);
        const auto steady_now = std::chrono::steady_clock::now();
        const auto age = std::chrono::seconds(now.tv_sec - stamp.tv_sec) +
                         std::chrono::nanoseconds(now.tv_nsec - stamp.tv_nsec);
        // A clock step can make the age negative or absurd: then it says nothing.
        if (age >= std::chrono::nanoseconds(0) && age < std::chrono::hours(1)) out.arrival = steady_now - age;
        break;
    }
    return out;
}

}  // namespace keel::detail
