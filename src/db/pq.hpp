#pragma once

// The few libpq calls keel's sessions make, with PostgreSQL's errors turned into keel's typed
// exceptions (keel/database_error.hpp). Private to keel.

#include <libpq-fe.h>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace keel::detail::pq {

struct result_deleter {
    void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using result_ptr = std::unique_ptr<PGresult, result_deleter>;

/// Where a statement's parameters are: text values, null for SQL NULL.
struct params {
    int count = 0;
    const char* const* values = nullptr;
};

/// Each call sets `broken` when the connection can no longer be trusted (lost, or in an
/// unknown protocol state), then throws.

/// Whether `r` is a success (a command's or a query's).
bool succeeded(const PGresult* r) noexcept;
/// Turns a failed result (or, `r` null, a failure with none) into keel's exception, by
/// SQLSTATE; sets `broken` for a lost connection.
[[noreturn]] void throw_error(PGconn* c, const PGresult* r, bool& broken);

/// libpq's error text without its trailing newline.
std::string error_message(std::string text);

/// Whether the connection still looks usable, without waiting: reads what the server already
/// sent (a terminated backend's farewell, the closed socket). False: nothing sent now can
/// arrive. True proves nothing about the next round trip.
bool still_connected(PGconn* c) noexcept;

/// A statement without parameters (BEGIN, COMMIT, SAVEPOINT ...), simple protocol.
result_ptr exec(PGconn* c, const std::string& sql, bool& broken);
/// Statements without parameters, `;`-separated, as one simple query (one round trip): every
/// result, in order, failed ones included (PostgreSQL runs none after the first failure).
/// Throws only when no result came (the connection failed).
std::vector<result_ptr> exec_each(PGconn* c, const std::string& sql, bool& broken);
/// Prepares `sql` on the connection as `name`.
void prepare(PGconn* c, const std::string& name, const std::string& sql, bool& broken);
/// A statement with parameters: prepared on the connection as `name`, or, with no name, sent
/// unnamed as `sql` (parsed for this execution only: what a transaction pooler allows).
struct statement_call {
    const char* name = nullptr;
    const char* sql = nullptr;
    params bound;
};
/// Runs a statement.
result_ptr exec_statement(PGconn* c, const statement_call& call, bool& broken);
/// How far a pipeline got: the leading calls that took effect (also when a later one failed: a
/// BEGIN whose transaction must now be rolled back, a PREPARE that now exists on the
/// connection), and whether PostgreSQL itself refused the call after them (an error with its
/// SQLSTATE, such as a terminated backend's 57P01): then no later call of the pipeline ran.
struct pipeline_progress {
    std::size_t completed = 0;
    bool refused = false;

    /// Whether the call at `at` certainly never ran: PostgreSQL refused one before it. (A
    /// connection that merely ended says nothing of what the server did.)
    bool never_ran(std::size_t at) const noexcept { return refused && completed < at; }
};

/// Keeps `r` as a pipeline step's result in `kept`, unless `kept` is a failure already: a
/// server's error, then libpq's own when the server went away after it, keep the server's.
void keep_telling(result_ptr& kept, PGresult* r) noexcept;

/// Reads a pipeline's results, one per call in order, into `progress`, keeping the first
/// failure. What the blocking and the awaited pipeline share; they differ only in how they wait
/// for each result.
class pipeline_tally {
public:
    pipeline_tally(std::size_t calls, pipeline_progress& progress);
    /// The next call's result (the last libpq gave for it; never null).
    void take(result_ptr r);
    /// Once every call's result came: every result, in order; or throws the first failure as
    /// keel's typed exception.
    std::vector<result_ptr> finish(PGconn* c, bool& broken);
    /// The connection failed before every result came: throws the first failure PostgreSQL
    /// reported, if any (why it went), else the connection's own error. Sets `broken`.
    [[noreturn]] void lost(PGconn* c, bool& broken);

private:
    std::vector<result_ptr> results_;
    pipeline_progress& progress_;
    static constexpr std::size_t none = static_cast<std::size_t>(-1);
    std::size_t first_failure_ = none;  // an index into results_
    bool all_ok_ = true;
};

/// Runs `calls` in one round trip (libpq's pipeline mode): BEGIN, SET LOCAL ... (each a call
/// with `sql` and no parameters) and statements. Returns every call's result, in order; throws
/// the first error. `progress` says how far it got, also when it threw.
std::vector<result_ptr> exec_pipeline(PGconn* c, std::span<const statement_call> calls, bool& broken,
                                      pipeline_progress& progress);

}  // namespace keel::detail::pq
