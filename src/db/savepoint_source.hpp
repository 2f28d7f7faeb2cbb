#pragma once

// A session's transaction as a SAVEPOINT inside a test's outer transaction (the isolated test
// database, keel/testing/isolated_database.hpp): commit releases it, rollback rolls back to it,
// and the outer transaction undoes everything at the end. Private to keel.

#include "db/outer_transaction.hpp"
#include "db/transaction_source.hpp"

#include <memory>
#include <string>
#include <vector>

namespace keel::detail {

/// What ends a joined transaction so that its work stays: RELEASE SAVEPOINT `savepoint`, after
/// undoing a SET LOCAL statement_timeout (`undo_timeout`), which outlives the RELEASE.
std::vector<std::string> release_statements(const std::string& savepoint, bool undo_timeout);

class savepoint_source final : public transaction_source {
public:
    explicit savepoint_source(std::shared_ptr<outer_transaction> outer) noexcept : outer_(std::move(outer)) {}

    pooled_connection& open(const session_options& options, std::vector<std::string>& opening) override;
    void commit(pooled_connection& c, const session_options& options, bool& broken) override;
    std::vector<std::string> closing(pooled_connection& c, const session_options& options,
                                     bool& broken) override;
    void roll_back(pooled_connection& c, bool& broken) override;
    void close(bool broken) noexcept override;
    bool prepare_after_opening() const noexcept override { return true; }
    slow_statement_rule slow_statements() const noexcept override { return outer_->slow; }
    std::chrono::milliseconds pool_timeout() const noexcept override { return outer_->wait; }

private:
    std::shared_ptr<outer_transaction> outer_;
    std::string savepoint_;  // while this session holds the outer transaction's connection
};

}  // namespace keel::detail
