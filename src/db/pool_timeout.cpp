#include <keel/pool_timeout.hpp>

namespace keel {

pool_timeout::pool_timeout(std::chrono::milliseconds waited, const char* why)
    : database_error(why, {}), waited_(waited) {}

}  // namespace keel
