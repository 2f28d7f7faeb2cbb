#pragma once

// What the request's deadline leaves a transaction: how long its checkout may wait, and the
// statement_timeout its statements run under. Private to keel.

#include <keel/session.hpp>

#include <chrono>
#include <string>

namespace keel::detail {

struct transaction_budget {
    using clock = std::chrono::steady_clock;

    std::chrono::milliseconds checkout_wait{0};
    /// What SET LOCAL statement_timeout sets; 0: nothing (the server's default).
    std::chrono::milliseconds statement_timeout{0};
    /// Whether statement_timeout is the deadline's rather than the session's own option: a
    /// statement it cancels is then keel::deadline_exceeded (504).
    bool from_deadline = false;
    /// The latest moment a statement may still run to (the deadline less the COMMIT's reserve).
    clock::time_point statements_until = clock::time_point::max();

    /// For a transaction that begins now. Throws keel::pool_timeout (503: nothing ran yet) when
    /// the deadline has (nearly) passed already.
    static transaction_budget of(const session_options& options, std::chrono::milliseconds engine_wait,
                                 clock::time_point deadline);

    /// The statement_timeout to set now, once the connection is there (the checkout may have
    /// waited): statement_timeout, shortened to what is left when it is the deadline's. Throws
    /// keel::deadline_exceeded when nothing is left.
    std::chrono::milliseconds timeout_now() const;

    /// The statement_timeout for a statement sent now, when it should be lowered from what was
    /// set at BEGIN (time has passed since: the deadline is nearer); 0 when it need not be.
    /// Throws keel::deadline_exceeded when no time is left for a statement.
    std::chrono::milliseconds lowered_timeout(clock::time_point set_at) const;

    static std::string set_local(std::chrono::milliseconds timeout) {
        return "SET LOCAL statement_timeout = " + std::to_string(timeout.count());
    }
};

}  // namespace keel::detail
