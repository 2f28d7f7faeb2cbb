#include "db/pooled_source.hpp"

#include <keel/database_error.hpp>

#include "db/pq.hpp"
#include "db/pq_async.hpp"
#include "db/read_position.hpp"
#include "db/session_origin.hpp"

#include <string>
#include <string_view>

namespace keel::detail {

std::string begin_statement(const session_options& o) {
    std::string sql = "BEGIN ISOLATION LEVEL ";
    switch (o.isolation) {
        case isolation::read_committed:
            sql += "READ COMMITTED";
            break;
        case isolation::repeatable_read:
            sql += "REPEATABLE READ";
            break;
        case isolation::serializable:
            sql += "SERIALIZABLE";
            break;
    }
    if (o.read_only) sql += " READ ONLY";
    return sql;
}

bool reads_from_replica(const engine& e, const session_options& o) noexcept {
    // A hot standby refuses SERIALIZABLE: such a session stays on the primary.
    return o.read_only && o.isolation != isolation::serializable && replicas_of(e) != nullptr;
}

bool reports_commit_position(const engine& e, const session_options& o) noexcept {
    return !o.read_only && replicas_of(e) != nullptr;
}

std::vector<std::string> commit_statements(const engine& e, const session_options& o) {
    // pg_current_wal_insert_lsn() right after COMMIT is at or past the commit's record: a
    // replica that replayed that far sees the commit.
    std::vector<std::string> statements{"COMMIT"};
    if (reports_commit_position(e, o)) statements.emplace_back(commit_position_query);
    return statements;
}

commit_in_doubt lost_during_commit(const connection_lost& e) {
    return commit_in_doubt(std::string("connection lost during COMMIT: ") + e.what(), e.sqlstate());
}

void note_commit_position(const engine& e, const session_origin* holder, const PGresult* position) {
    if (!holder || !holder->position || !position || PQntuples(position) < 1) return;
    const auto at = parse_wal_position(PQgetvalue(position, 0, 0));
    if (!at) return;
    const auto& o = e.options();
    // After max_replica_lag (and two checks) every replica still in use has replayed it.
    const auto lifetime =
        std::chrono::ceil<std::chrono::seconds>(o.max_replica_lag + 2 * o.replica_check_interval);
    holder->position->note_commit(*at, lifetime);
}

pooled_connection& pooled_source::open(const session_options& options, std::vector<std::string>& opening) {
    const auto wait =
        options.pool_timeout.count() > 0 ? options.pool_timeout : engine_->options().pool_timeout;
    replica_ = nullptr;
    if (reads_from_replica(*engine_, options) && !primary_only_) {
        const auto read_after = holder_ && holder_->position ? holder_->position->must_see() : 0;
        lease_.emplace(engine_->checkout_for_read(wait, holder_, read_after, replica_));
    } else {
        lease_.emplace(engine_->checkout(wait, holder_));
    }
    opening.push_back(begin_statement(options));
    // A blocking session reads with poll(): event loops still watching the socket for the
    // awaited sessions before would be woken by every answer for nothing.
    lease_->connection().watches.clear();
    lease_->connection().affinity = nullptr;
    return lease_->connection();
}

void refuse_commit_on_lost_connection(PGconn* c, const session_options& options, bool& broken) {
    // A terminated backend or a restart is found here, before COMMIT goes out: then nothing was
    // committed, for certain.
    if (options.read_only || pq::still_connected(c)) return;
    broken = true;
    throw connection_lost("keel: the connection was lost before COMMIT was sent; nothing was committed",
                          "08006");
}

void pooled_source::commit(pooled_connection& c, const session_options& options, bool& broken) {
    refuse_commit_on_lost_connection(c.handle, options, broken);
    std::vector<pq::result_ptr> done;
    try {
        std::string text;  // one simple query
        for (const auto& s : commit_statements(*engine_, options)) text += (text.empty() ? "" : "; ") + s;
        done = pq::exec_each(c.handle, text, broken);
        if (!pq::succeeded(done.front().get())) pq::throw_error(c.handle, done.front().get(), broken);
    } catch (const connection_lost& e) {
        // COMMIT went out and no answer came back: it may have committed.
        if (options.read_only) {
            broken = true;
            return;
        }
        throw lost_during_commit(e);
    }
    // PostgreSQL answers COMMIT of a transaction an earlier error aborted with a quiet
    // ROLLBACK: that is a failure, never a success.
    if (std::string_view(PQcmdStatus(done.front().get())) == "ROLLBACK") {
        throw database_error(
            "keel: the transaction was aborted by an earlier error and rolled back, not committed", "25P02");
    }
    // Committed. The position is a courtesy: if reading it failed, the request hands out none.
    if (done.size() > 1 && pq::succeeded(done[1].get()))
        note_commit_position(*engine_, holder_, done[1].get());
    if (PQstatus(c.handle) != CONNECTION_OK) broken = true;
}

std::vector<std::string> pooled_source::closing(pooled_connection& c, const session_options& options,
                                                bool& broken) {
    refuse_commit_on_lost_connection(c.handle, options, broken);
    return commit_statements(*engine_, options);
}

void pooled_source::closed(const PGresult* last, const session_options& options) noexcept {
    if (reports_commit_position(*engine_, options)) note_commit_position(*engine_, holder_, last);
}

void pooled_source::leave_replica(const std::string& why) noexcept {
    engine_->replica_failed(replica_, why);
    replica_ = nullptr;
    primary_only_ = true;
}

void pooled_source::roll_back(pooled_connection& c, bool& broken) {
    pq::exec(c.handle, "ROLLBACK", broken);
}

void pooled_source::close(bool broken) noexcept {
    if (!lease_) return;
    if (broken) lease_->mark_broken();
    lease_.reset();
}

}  // namespace keel::detail
