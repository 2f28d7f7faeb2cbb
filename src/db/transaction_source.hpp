#pragma once

// Where a session's transaction lives. A session runs its statements the same way whatever
// the source; the source says how a transaction begins, commits, rolls back, and where its
// connection comes from and goes back to. Private to keel.
//
//   pooled_source     a connection from the engine, BEGIN ... COMMIT     (production)
//   savepoint_source  a SAVEPOINT in a test's outer transaction          (testing::isolated_database)

#include <keel/session.hpp>

#include "db/database_counters.hpp"
#include "db/pooled_connection.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace keel::detail {

/// Which statements a session logs as slow (the engine's slow_statement_threshold; 0: none),
/// and whether the line shows their parameters.
struct slow_statement_rule {
    std::chrono::milliseconds threshold{0};
    bool with_parameters = false;

    static slow_statement_rule of(const engine_options& o) noexcept {
        return {o.slow_statement_threshold, o.log_statement_parameters};
    }
};

class transaction_source {
public:
    virtual ~transaction_source() = default;

    /// Takes a connection for one transaction and appends the statements that begin it to
    /// `opening` (sent later, with the session's first statement). May block, and throw
    /// keel::pool_timeout or keel::connection_lost.
    virtual pooled_connection& open(const session_options& options, std::vector<std::string>& opening) = 0;
    /// Ends the transaction on `c` so that its work stays. Throws what PostgreSQL refused;
    /// keel::commit_in_doubt when the outcome cannot be known.
    virtual void commit(pooled_connection& c, const session_options& options, bool& broken) = 0;
    /// What commits the transaction on `c` from inside a pipeline, after its last statement (an
    /// autocommit session's): COMMIT, with replicas the commit position's query; joined, RELEASE.
    /// Throws keel::connection_lost when `c` died already: nothing would be committed.
    virtual std::vector<std::string> closing(pooled_connection& c, const session_options& options,
                                             bool& broken) = 0;
    /// The statements closing() gave succeeded; `last` is the last one's result.
    virtual void closed(const PGresult* /*last*/, const session_options& /*options*/) noexcept {}
    /// Whether a connection lost once COMMIT went out leaves the outcome in doubt (a real
    /// COMMIT's; not a test's RELEASE SAVEPOINT, whose transaction is rolled back anyway).
    virtual bool commit_may_be_in_doubt() const noexcept { return false; }
    /// Undoes the transaction on `c`; throws when that failed (the connection is then broken).
    virtual void roll_back(pooled_connection& c, bool& broken) = 0;
    /// Gives the connection back after commit or roll_back, or without either when nothing was
    /// sent. `broken`: it cannot be trusted any more.
    virtual void close(bool broken) noexcept = 0;
    /// Whether a statement's first use must wait until the opening statements were sent: a
    /// statement that fails to parse inside the outer transaction would abort it.
    virtual bool prepare_after_opening() const noexcept = 0;
    /// Where the session counts its statements and outcomes (the engine's), if anywhere.
    virtual database_counters* counters() const noexcept { return nullptr; }
    virtual slow_statement_rule slow_statements() const noexcept = 0;
    /// The longest a checkout waits unless the session's options say otherwise.
    virtual std::chrono::milliseconds pool_timeout() const noexcept = 0;
    /// Whether the open transaction runs on a read replica.
    virtual bool on_replica() const noexcept { return false; }
    /// The replica's connection was lost (`why`): the replica is reported unfit, and the
    /// session's next transaction goes to the primary. Call before close().
    virtual void leave_replica(const std::string& /*why*/) noexcept {}
};

}  // namespace keel::detail
