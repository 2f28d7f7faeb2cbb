#pragma once

#include "settings.hpp"

#include <keel/app.hpp>

namespace bank {

/// Registers the bank on `app`: the lifespan (engine and session_factory, the schema, the
/// seed when asked) and every router. main() calls it, and so do the tests.
void configure(keel::app& app, const settings& config);

}  // namespace bank
