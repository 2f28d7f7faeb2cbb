#pragma once

#include <keel/database_error.hpp>

#include <chrono>

namespace keel {

/// No database connection could be had within `pool_timeout` (or the wait queue was full, or
/// the engine is shutting down). A database error: it says nothing of HTTP. Unhandled in a
/// request, the pipeline answers it 503 with `Retry-After: 1` (nothing was written).
class pool_timeout : public database_error {
public:
    explicit pool_timeout(std::chrono::milliseconds waited,
                          const char* why = "database connection pool exhausted");

    /// How long the request waited before giving up (0 when the queue was full).
    std::chrono::milliseconds waited() const noexcept { return waited_; }

private:
    std::chrono::milliseconds waited_;
};

}  // namespace keel
