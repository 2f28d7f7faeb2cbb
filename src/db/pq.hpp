#pragma once

// The few libpq calls keel's sessions make, with PostgreSQL's errors turned into keel's typed
// exceptions (keel/database_error.hpp). Private to keel.

#include <libpq-fe.h>
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
/// What a pipeline answered: the result of the call asked for, and the last call's when that
/// is another (a statement's, and the commit position's after the COMMIT that follows it).
struct pipeline_answer {
    result_ptr wanted;
    result_ptr last;
};

/// Runs `calls` in one round trip (libpq's pipeline mode): BEGIN, SET LOCAL ... (each a call
/// with `sql` and no parameters) and statements. Returns the results of the call at
/// `wanted_at` and of the last; throws the first error. `completed` counts the leading calls
/// that took effect, also when a later one failed (a BEGIN whose transaction must now be
/// rolled back).
pipeline_answer exec_pipeline(PGconn* c, std::span<const statement_call> calls, bool& broken,
                              std::size_t& completed, std::size_t wanted_at);

}  // namespace keel::detail::pq
