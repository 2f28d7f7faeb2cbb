#pragma once

namespace keel::testing {

/// A loopback TCP port that was free a moment ago (a small race, as everywhere): for a process
/// under test that must be told its port before it starts. Picked at random below the kernel's
/// ephemeral range (ip_local_port_range) when there is room, so that no outgoing connection of
/// the test's other processes takes it before the server binds it, or while it restarts on it.
unsigned short free_loopback_port();

}  // namespace keel::testing
