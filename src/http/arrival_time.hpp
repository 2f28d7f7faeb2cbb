#pragma once

// When a request's first byte reached the machine, not when keel got round to reading it: the
// kernel stamps each packet on arrival (SO_TIMESTAMPING, software receive stamps), and a read
// returns the stamp of the first byte it read. A request that waited in the socket behind a
// busy I/O thread is measured from its arrival, so the access log and the latency histograms
// show the wait. Private to the server.

#include <chrono>
#include <cstddef>
#include <optional>

namespace keel::detail {

/// Asks the kernel to stamp what `socket` receives; false when it cannot.
bool stamp_arrivals(int socket) noexcept;

struct received {
    long bytes = 0;  // < 0: failed, see error; 0: the peer closed
    int error = 0;   // errno when bytes < 0 (EAGAIN: nothing to read yet)
    std::optional<std::chrono::steady_clock::time_point> arrival;  // of the first byte read
};

/// One non-blocking read of at most `size` bytes, with the arrival time of its first byte when
/// the kernel stamped it (on the steady clock, and never later than now).
received receive_stamped(int socket, void* data, std::size_t size) noexcept;

}  // namespace keel::detail
