#pragma once

#include "settings.hpp"

#include <keel/app.hpp>

namespace bank {

/// Registers the bank on `app`: configure_services, then the users, accounts and transfers
/// routers. main() calls it, and so do the tests.
void configure(keel::app& app, const settings& config);

/// The part of the bank that is not its API: the lifespan (engine and session_factory, the
/// schema, the seed when asked), health and readiness, /plaintext and /json.
void configure_services(keel::app& app, const settings& config);

}  // namespace bank
