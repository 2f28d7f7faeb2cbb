#pragma once

// A session's own transaction on a connection from the engine's pool. Private to keel.

#include <keel/engine.hpp>

#include "db/transaction_source.hpp"

#include <libpq-fe.h>

#include <keel/database_error.hpp>

#include <optional>
#include <string>
#include <vector>

namespace keel::detail {

/// `BEGIN ISOLATION LEVEL ... [READ ONLY]` for `options`.
std::string begin_statement(const session_options& options);

/// Whether a session with `options` on `e` reads from a replica (when one is fit).
bool reads_from_replica(const engine& e, const session_options& options) noexcept;
/// Whether committing a session with `options` on `e` also reads the WAL position the commit
/// reached (with replicas: the session's request hands it out as its read-your-writes token).
bool reports_commit_position(const engine& e, const session_options& options) noexcept;
/// What reads that position, right after COMMIT: never an error (NULL on a server in recovery,
/// which cannot have committed a write), so that it cannot fail a COMMIT it follows.
inline constexpr const char* commit_position_query =
    "SELECT CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_insert_lsn()::text END";
/// What commits a session's transaction on `e`: COMMIT, and the position's query when
/// reports_commit_position().
std::vector<std::string> commit_statements(const engine& e, const session_options& options);
/// The error for a connection lost once COMMIT went out (`e`): it may have committed.
commit_in_doubt lost_during_commit(const connection_lost& e);
/// Records the position the last result of commit_statements() holds for `holder`'s request.
void note_commit_position(const engine& e, const session_origin* holder, const PGresult* position);
/// Before a COMMIT goes out: throws connection_lost ("nothing was committed", and marks the
/// connection `broken`) when `c` died while the handler ran. A read-only transaction has nothing
/// to commit, lost connection or not, so it is not looked at (a system call saved per read).
void refuse_commit_on_lost_connection(PGconn* c, const session_options& options, bool& broken);

class pooled_source final : public transaction_source {
public:
    /// `holder` names the session in the engine's leak and timeout lines; it outlives this.
    pooled_source(keel::engine& e, const session_origin* holder) noexcept : engine_(&e), holder_(holder) {}

    pooled_connection& open(const session_options& options, std::vector<std::string>& opening) override;
    void commit(pooled_connection& c, const session_options& options, bool& broken) override;
    std::vector<std::string> closing(pooled_connection& c, const session_options& options,
                                     bool& broken) override;
    void closed(const PGresult* last, const session_options& options) noexcept override;
    bool commit_may_be_in_doubt() const noexcept override { return true; }
    void roll_back(pooled_connection& c, bool& broken) override;
    void close(bool broken) noexcept override;
    bool prepare_after_opening() const noexcept override { return false; }
    database_counters* counters() const noexcept override { return &counters_of(*engine_); }
    slow_statement_rule slow_statements() const noexcept override {
        return slow_statement_rule::of(engine_->options());
    }
    std::chrono::milliseconds pool_timeout() const noexcept override {
        return engine_->options().pool_timeout;
    }
    bool on_replica() const noexcept override { return replica_ != nullptr; }
    void leave_replica(const std::string& why) noexcept override;

private:
    keel::engine* engine_;
    const session_origin* holder_;
    std::optional<engine::lease> lease_;
    keel::engine* replica_ = nullptr;  // the replica whose pool lease_ is from (null: the primary)
    bool primary_only_ = false;        // a replica failed this session: no more replicas
};

}  // namespace keel::detail
