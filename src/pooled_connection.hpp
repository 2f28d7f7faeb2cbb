#pragma once

// What the engine pools: one libpqxx connection and its age. Private to keel's sources.

#include <keel/engine.hpp>

#include <chrono>
#include <memory>
#include <pqxx/pqxx>

namespace keel::detail {

struct pooled_connection {
    std::unique_ptr<pqxx::connection> connection;
    std::chrono::steady_clock::time_point created;
    std::chrono::steady_clock::time_point last_used;
};

}  // namespace keel::detail
