#pragma once

// What the engine pools: one libpqxx connection and its age. Private to keel's sources.

#include <keel/engine.hpp>

#include <chrono>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <unordered_map>

namespace keel::detail {

struct pooled_connection {
    std::unique_ptr<pqxx::connection> connection;
    std::chrono::steady_clock::time_point created;
    std::chrono::steady_clock::time_point last_used;
    std::unordered_map<std::string, std::string> prepared;  // statement text -> its name on this connection
};

}  // namespace keel::detail
