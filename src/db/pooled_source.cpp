#include "db/pooled_source.hpp"

#include <keel/database_error.hpp>

#include "db/pq.hpp"
#include "db/pq_async.hpp"

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

pooled_connection& pooled_source::open(const session_options& options, std::vector<std::string>& opening) {
    lease_.emplace(engine_->checkout(
        options.pool_timeout.count() > 0 ? options.pool_timeout : engine_->options().pool_timeout, holder_));
    opening.push_back(begin_statement(options));
    // A blocking session reads with poll(): event loops still watching the socket for the
    // awaited sessions before would be woken by every answer for nothing.
    lease_->connection().watches.clear();
    lease_->connection().affinity = nullptr;
    return lease_->connection();
}

void pooled_source::commit(pooled_connection& c, const session_options& options, bool& broken) {
    // A connection that died while the handler ran (a terminated backend, a restart) is found
    // here, before COMMIT goes out: then nothing was committed, for certain.
    if (!pq::still_connected(c.handle)) {
        broken = true;
        throw connection_lost("keel: the connection was lost before COMMIT was sent; nothing was committed",
                              "08006");
    }
    pq::result_ptr done;
    try {
        done = pq::exec(c.handle, "COMMIT", broken);
    } catch (const connection_lost& e) {
        // COMMIT went out and no answer came back: it may have committed. A read-only
        // transaction had nothing to commit, so for it the loss is only a lost connection.
        if (options.read_only) throw;
        throw commit_in_doubt(std::string("connection lost during COMMIT: ") + e.what(), e.sqlstate());
    }
    // PostgreSQL answers COMMIT of a transaction an earlier error aborted with a quiet
    // ROLLBACK: that is a failure, never a success.
    if (std::string_view(PQcmdStatus(done.get())) == "ROLLBACK") {
        throw database_error(
            "keel: the transaction was aborted by an earlier error and rolled back, not committed", "25P02");
    }
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
