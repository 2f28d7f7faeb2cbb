#include "db/savepoint_source.hpp"

#include "db/pq.hpp"

namespace keel::detail {

pooled_connection& savepoint_source::open(const session_options&, std::vector<std::string>& opening) {
    savepoint_ = outer_->acquire();
    opening.push_back("SAVEPOINT " + savepoint_);
    return outer_->lease.connection();
}

std::vector<std::string> release_statements(const std::string& savepoint, bool undo_timeout) {
    // SET LOCAL outlives RELEASE SAVEPOINT: undo it, as a real COMMIT would.
    std::vector<std::string> statements;
    if (undo_timeout) statements.emplace_back("SET LOCAL statement_timeout TO DEFAULT");
    statements.push_back("RELEASE SAVEPOINT " + savepoint);
    return statements;
}

void savepoint_source::commit(pooled_connection& c, const session_options& options, bool& broken) {
    for (const auto& s : release_statements(savepoint_, options.statement_timeout.count() > 0))
        pq::exec(c.handle, s, broken);
}

std::vector<std::string> savepoint_source::closing(pooled_connection&, const session_options& options,
                                                   bool&) {
    return release_statements(savepoint_, options.statement_timeout.count() > 0);
}

void savepoint_source::roll_back(pooled_connection& c, bool& broken) {
    pq::exec(c.handle, "ROLLBACK TO SAVEPOINT " + savepoint_, broken);
    pq::exec(c.handle, "RELEASE SAVEPOINT " + savepoint_, broken);
}

void savepoint_source::close(bool broken) noexcept {
    if (savepoint_.empty()) return;
    if (broken) outer_->broken = true;  // the outer transaction is lost with its connection
    savepoint_.clear();
    outer_->release();
}

}  // namespace keel::detail
