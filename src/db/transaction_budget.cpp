#include "db/transaction_budget.hpp"

#include <keel/database_error.hpp>
#include <keel/pool_timeout.hpp>

#include <algorithm>

namespace keel::detail {

namespace {

using std::chrono::milliseconds;

// The COMMIT's share of the time left: statements end this much before the deadline.
milliseconds commit_reserve(milliseconds left) {
    return std::min(milliseconds(100), left / 10);
}

[[noreturn]] void throw_past_deadline() {
    throw deadline_exceeded("keel: the request's deadline passed; the transaction is rolled back", "57014");
}

milliseconds whole_milliseconds(transaction_budget::clock::duration d) {
    return std::chrono::duration_cast<milliseconds>(d);
}

}  // namespace

transaction_budget transaction_budget::of(const session_options& options, milliseconds engine_wait,
                                          clock::time_point deadline) {
    transaction_budget b;
    b.checkout_wait = options.pool_timeout.count() > 0 ? options.pool_timeout : engine_wait;
    b.statement_timeout = options.statement_timeout;
    if (deadline == clock::time_point::max()) return b;
    const auto now = clock::now();
    const auto left = whole_milliseconds(deadline - now);
    // Nothing was sent yet: the time went waiting for capacity (a worker, a connection).
    if (left.count() <= 1)
        throw pool_timeout(milliseconds(0),
                           "the request's deadline passed before its transaction could begin");
    b.checkout_wait = std::min(b.checkout_wait, left);
    b.statements_until = deadline - commit_reserve(left);
    const auto for_statements = std::max(milliseconds(1), whole_milliseconds(b.statements_until - now));
    if (b.statement_timeout.count() <= 0 || for_statements < b.statement_timeout) {
        b.statement_timeout = for_statements;
        b.from_deadline = true;
    }
    return b;
}

milliseconds transaction_budget::timeout_now() const {
    if (!from_deadline) return statement_timeout;
    const auto left = whole_milliseconds(statements_until - clock::now());
    if (left.count() <= 0) throw_past_deadline();
    return std::min(left, statement_timeout);
}

milliseconds transaction_budget::lowered_timeout(clock::time_point set_at) const {
    if (!from_deadline) return milliseconds(0);
    const auto now = clock::now();
    const auto left = whole_milliseconds(statements_until - now);
    if (left.count() <= 0) throw_past_deadline();
    // A statement sent now could run until now + statement_timeout, past statements_until by
    // the time gone since BEGIN set it. Lower it once that overshoot is worth a message.
    const auto overshoot = whole_milliseconds(now - set_at);
    if (overshoot < std::max(milliseconds(20), statement_timeout / 10)) return milliseconds(0);
    return left;
}

}  // namespace keel::detail
