#pragma once

namespace keel::testing {

/// A loopback TCP port the kernel just handed out, free again when this returns (a small race,
/// as everywhere): for a process under test that must be told its port before it starts.
unsigned short free_loopback_port();

}  // namespace keel::testing
