#pragma once

// The libpq connection string keel connects with: the URL given, with the engine's client-side
// defaults (connect_timeout, TCP keepalives, tcp_user_timeout) added where the URL does not set
// them itself. Private to keel.

#include <keel/engine.hpp>

#include <string>

namespace keel::detail {

std::string connection_url(const std::string& url, const engine_options& o);

}  // namespace keel::detail
