#pragma once

// One connection's transaction that sessions join, each in a SAVEPOINT of its own: the heart
// of the isolated test session factory (keel/testing/isolated_database.hpp). Private to keel.

#include <keel/engine.hpp>

#include "db/pooled_connection.hpp"
#include "db/transaction_source.hpp"

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace keel::detail {

struct outer_transaction {
    /// Checks a connection out of `e` and begins the outer transaction on it.
    explicit outer_transaction(engine& e);
    /// Rolls the outer transaction back (everything every joined session did) and returns the
    /// connection. Never throws.
    ~outer_transaction();
    outer_transaction(const outer_transaction&) = delete;
    outer_transaction& operator=(const outer_transaction&) = delete;

    /// Gives the connection to one session until release(); returns the savepoint name it
    /// begins with. The connection is one, so a second session waits for the first to end —
    /// or, on the thread that holds it, fails at once (it would wait for itself).
    /// Waits up to the engine's pool_timeout, then throws keel::pool_timeout.
    std::string acquire();
    void release() noexcept;

    engine::lease lease;
    bool broken = false;  // the outer transaction is lost; the connection is closed at the end
    std::chrono::milliseconds wait;
    slow_statement_rule slow;  // the engine's, for the sessions that join

private:
    std::mutex mutex_;
    std::condition_variable free_;
    std::optional<std::thread::id> holder_;
    unsigned sessions_ = 0;
};

}  // namespace keel::detail
