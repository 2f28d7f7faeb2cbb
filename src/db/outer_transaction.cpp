#include "db/outer_transaction.hpp"

#include <keel/pool_timeout.hpp>

#include "db/pq.hpp"

#include <stdexcept>
#include <string>

namespace keel::detail {

outer_transaction::outer_transaction(engine& e)
    : lease(e.checkout()), wait(e.options().pool_timeout), slow(slow_statement_rule::of(e.options())) {
    pq::exec(lease.connection().handle, "BEGIN", broken);
}

outer_transaction::~outer_transaction() {
    try {
        if (!broken) pq::exec(lease.connection().handle, "ROLLBACK", broken);
    } catch (...) {
        broken = true;
    }
    if (broken) lease.mark_broken();
}

std::string outer_transaction::acquire() {
    std::unique_lock lock(mutex_);
    if (holder_ == std::this_thread::get_id()) {
        throw std::logic_error(
            "keel: a second session began on this thread while another is still in its transaction; "
            "sessions of an isolated test database share one connection, so they must take turns. "
            "A test that needs concurrent sessions uses a fresh database per test "
            "(keel::testing::database_template).");
    }
    if (!free_.wait_for(lock, wait, [&] { return !holder_; })) {
        throw pool_timeout(wait, "the isolated test database's connection stayed in use");
    }
    holder_ = std::this_thread::get_id();
    return "keel_session_" + std::to_string(++sessions_);
}

void outer_transaction::release() noexcept {
    {
        std::lock_guard lock(mutex_);
        holder_.reset();
    }
    free_.notify_one();
}

}  // namespace keel::detail
