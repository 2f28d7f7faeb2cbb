#pragma once

#include <stdexcept>
#include <string>

namespace keel {

/// A PostgreSQL error, typed by SQLSTATE so that a handler catches what it means:
/// ```
/// try { db.exec("INSERT INTO users (email) VALUES ($1)", email); }
/// catch (const keel::unique_violation&) { throw keel::http_error(409, "email already registered"); }
/// ```
/// Unhandled in a request, a database error answers 500 after the rollback, its message logged,
/// never sent; connection_lost and pool_timeout answer 503 with Retry-After (nothing was
/// written), commit_in_doubt 500 saying the outcome is unknown (see docs/database.md).
class database_error : public std::runtime_error {
public:
    database_error(const std::string& message, std::string sqlstate)
        : std::runtime_error(message), sqlstate_(std::move(sqlstate)) {}
    /// The five-character SQLSTATE ("23505"); empty when the server sent none.
    const std::string& sqlstate() const noexcept { return sqlstate_; }

private:
    std::string sqlstate_;
};

/// 23505: a unique constraint refused the row.
class unique_violation : public database_error {
    using database_error::database_error;
};
/// 23503
class foreign_key_violation : public database_error {
    using database_error::database_error;
};
/// 23514
class check_violation : public database_error {
    using database_error::database_error;
};
/// 23502
class not_null_violation : public database_error {
    using database_error::database_error;
};
/// Class 40 (serialization failure 40001, deadlock 40P01): the transaction may succeed if retried.
class transaction_conflict : public database_error {
    using database_error::database_error;
};
class serialization_failure : public transaction_conflict {
    using transaction_conflict::transaction_conflict;
};
class deadlock_detected : public transaction_conflict {
    using transaction_conflict::transaction_conflict;
};
/// 57014: canceled, e.g. by statement_timeout.
class query_canceled : public database_error {
    using database_error::database_error;
};
/// 57014 because the request's deadline ran out (keel::request::deadline): a statement was
/// cancelled by the statement_timeout keel set from it, or the time left could not cover
/// another statement. The transaction is rolled back. Unhandled: 504.
class deadline_exceeded : public query_canceled {
    using query_canceled::query_canceled;
};
/// 57014 because the request's client hung up while the statement ran: keel cancelled it, and
/// the transaction is rolled back. Unhandled: nobody is left to answer (logged, counted as 499).
class client_hung_up : public query_canceled {
    using query_canceled::query_canceled;
};
/// The connection broke (server restart, terminated backend, network) before COMMIT was sent,
/// or after PostgreSQL refused a statement ahead of the COMMIT (which then never ran): nothing
/// of the transaction was written. Unhandled: 503 with Retry-After.
class connection_lost : public database_error {
    using database_error::database_error;
};
/// The connection broke during COMMIT: the transaction may or may not have committed. Not a
/// connection_lost (a handler that retries on connection_lost must not retry this); never
/// retried by keel. Unhandled: 500 saying the outcome is unknown, no Retry-After.
class commit_in_doubt : public database_error {
    using database_error::database_error;
};

}  // namespace keel
