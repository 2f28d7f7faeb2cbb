#pragma once

// What both kinds of session do around each statement: refuse what PostgreSQL text cannot
// hold before anything is sent, and time the statement into the engine's histogram and its
// slow-statement log line. Private to keel.

#include "db/database_counters.hpp"
#include "db/pooled_connection.hpp"
#include "db/session_origin.hpp"
#include "db/transaction_source.hpp"

#include <chrono>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace keel::detail {

/// A statement's parameters as text; nullopt is SQL NULL.
using statement_params = std::vector<std::optional<std::string>>;

/// Throws keel::database_error (SQLSTATE 22021) when the statement or a parameter holds a NUL
/// byte: libpq would cut the value there, storing less than was asked.
void refuse_nul_bytes(std::string_view sql, const statement_params& params);

/// Throws std::logic_error for a unit of work asked of an autocommit session: each of its
/// statements commits on its own, there is no transaction to nest a unit in.
void refuse_units_in_autocommit(const session_options& options);

/// While it lives, a statement on `c` is cancelled when the request's client hangs up (the
/// server reports it through the origin's hangup_signal). Throws keel::client_hung_up at once
/// when the client is gone already: nothing is sent for nobody.
class cancel_on_hangup {
public:
    cancel_on_hangup(const session_origin& origin, pooled_connection& c);
    ~cancel_on_hangup();
    cancel_on_hangup(const cancel_on_hangup&) = delete;
    cancel_on_hangup& operator=(const cancel_on_hangup&) = delete;

private:
    hangup_signal* signal_;
};

/// Throws keel::client_hung_up when the request's client has hung up. For a call that makes
/// several exchanges with PostgreSQL (the blocking session's PREPARE, then the statement): a
/// cancel that reached the backend between two of them, idle, was ignored, and the next one
/// would run for nobody.
void throw_if_hung_up(const session_origin& origin);

/// Rethrows a statement's failure, saying why it was cancelled when keel caused it: as
/// keel::client_hung_up after the client hung up, as keel::deadline_exceeded when the
/// statement_timeout was the request deadline's (`timeout_from_deadline`).
[[noreturn]] void rethrow_statement_failure(const std::exception_ptr& failure, const session_origin& origin,
                                            bool timeout_from_deadline);

/// What a round trip that carries deferred statements with the COMMIT is timed and logged as:
/// they run in it, so it is bounded, cancelled on a hang-up and timed as a statement is.
inline constexpr std::string_view commit_with_deferred = "COMMIT (with the statements deferred to it)";
/// The parameters it is logged with: none.
inline const statement_params no_params;

/// Times one statement, from sent to answered (or failed): into the engine's histogram, and
/// onto a log line when it was slower than the engine's slow_statement_threshold.
class statement_timer {
public:
    statement_timer(database_counters* counters, slow_statement_rule rule, const session_origin& origin,
                    std::string_view sql, const statement_params& params) noexcept;
    ~statement_timer();
    statement_timer(const statement_timer&) = delete;
    statement_timer& operator=(const statement_timer&) = delete;

private:
    void report(std::chrono::steady_clock::duration took) const noexcept;

    database_counters* counters_;
    slow_statement_rule rule_;
    const session_origin& origin_;
    std::string_view sql_;
    const statement_params& params_;
    int exceptions_;
    std::chrono::steady_clock::time_point sent_;
};

}  // namespace keel::detail
