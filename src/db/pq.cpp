#include "db/pq.hpp"

#include <keel/database_error.hpp>

#include <sys/socket.h>
#include <cerrno>
#include <string_view>

namespace keel::detail::pq {

bool succeeded(const PGresult* r) noexcept {
    const auto status = PQresultStatus(r);
    return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

namespace {

// A SQLSTATE that says the connection is gone (or going): a terminated backend's 57P01, a
// shutdown's, the connection class 08; none at all is libpq's own failure.
bool names_a_lost_connection(std::string_view state) noexcept {
    return state.empty() || state.starts_with("08") || state == "57P01" || state == "57P02" ||
           state == "57P03";
}

}  // namespace

void throw_error(PGconn* c, const PGresult* r, bool& broken) {
    std::string message = r ? PQresultErrorMessage(r) : "";
    if (message.empty()) message = PQerrorMessage(c);
    message = error_message(std::move(message));
    const char* field = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    const std::string state = field ? field : "";
    if (PQstatus(c) != CONNECTION_OK || names_a_lost_connection(state)) {
        broken = true;  // no SQLSTATE: the failure was on our side of the wire (lost, out of memory)
        throw connection_lost(message.empty() ? "connection to the database lost" : message,
                              state.empty() ? "08006" : state);
    }
    if (state == "23505") throw unique_violation(message, state);
    if (state == "23503") throw foreign_key_violation(message, state);
    if (state == "23514") throw check_violation(message, state);
    if (state == "23502") throw not_null_violation(message, state);
    if (state == "40001") throw serialization_failure(message, state);
    if (state == "40P01") throw deadlock_detected(message, state);
    if (state.rfind("40", 0) == 0) throw transaction_conflict(message, state);
    if (state == "57014") throw query_canceled(message, state);
    throw database_error(message, state);
}

std::string error_message(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    return text;
}

bool still_connected(PGconn* c) noexcept {
    if (PQstatus(c) != CONNECTION_OK) return false;
    const int fd = PQsocket(c);
    if (fd < 0) return false;
    // Between two statements of a transaction the server has nothing to say unasked: a byte
    // waiting here is the farewell of a terminated backend, and end-of-file a closed socket.
    // Either way COMMIT must not go out (refusing it on a false alarm loses nothing: the
    // transaction is rolled back and the request answered 503).
    char byte = 0;
    const auto got = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (got >= 0) return false;
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

namespace {

result_ptr checked(PGconn* c, PGresult* raw, bool& broken) {
    result_ptr r(raw);
    if (!r || !succeeded(r.get())) throw_error(c, r.get(), broken);
    return r;
}

}  // namespace

result_ptr exec(PGconn* c, const std::string& sql, bool& broken) {
    return checked(c, PQexec(c, sql.c_str()), broken);
}

std::vector<result_ptr> exec_each(PGconn* c, const std::string& sql, bool& broken) {
    if (PQsendQuery(c, sql.c_str()) != 1) throw_error(c, nullptr, broken);
    std::vector<result_ptr> results;
    while (PGresult* raw = PQgetResult(c)) results.emplace_back(raw);
    if (results.empty()) throw_error(c, nullptr, broken);
    return results;
}

void prepare(PGconn* c, const std::string& name, const std::string& sql, bool& broken) {
    checked(c, PQprepare(c, name.c_str(), sql.c_str(), 0, nullptr), broken);
}

result_ptr exec_statement(PGconn* c, const statement_call& call, bool& broken) {
    const auto& p = call.bound;
    return checked(c,
                   call.name ? PQexecPrepared(c, call.name, p.count, p.values, nullptr, nullptr, 0)
                             : PQexecParams(c, call.sql, p.count, nullptr, p.values, nullptr, nullptr, 0),
                   broken);
}

void keep_telling(result_ptr& kept, PGresult* r) noexcept {
    if (kept && !succeeded(kept.get())) {
        PQclear(r);
        return;
    }
    kept.reset(r);
}

pipeline_tally::pipeline_tally(std::size_t calls, pipeline_progress& progress) : progress_(progress) {
    results_.reserve(calls);
    progress_ = {};
}

void pipeline_tally::take(result_ptr r) {
    const bool ok = succeeded(r.get());
    all_ok_ = all_ok_ && ok;
    if (all_ok_) progress_.completed = results_.size() + 1;
    // After the first failure PostgreSQL runs nothing more: the rest answer PIPELINE_ABORTED.
    if (!ok && first_failure_ == none && PQresultStatus(r.get()) != PGRES_PIPELINE_ABORTED) {
        first_failure_ = results_.size();
        // libpq's own errors (the connection ended) carry no SQLSTATE; the server's always do.
        progress_.refused = PQresultErrorField(r.get(), PG_DIAG_SQLSTATE) != nullptr;
    }
    results_.push_back(std::move(r));
}

std::vector<result_ptr> pipeline_tally::finish(PGconn* c, bool& broken) {
    if (first_failure_ != none) throw_error(c, results_[first_failure_].get(), broken);
    return std::move(results_);
}

void pipeline_tally::lost(PGconn* c, bool& broken) {
    broken = true;  // the pipeline's state is unknown: never hand this connection out again
    // The server's word on why the connection went (57P01, ...) says more than libpq's; a
    // statement's own error does not say the connection went, which the caller must hear (what
    // it may conclude from the error is in the progress: nothing after it ran).
    const PGresult* told = first_failure_ != none ? results_[first_failure_].get() : nullptr;
    if (told) {
        const char* state = PQresultErrorField(told, PG_DIAG_SQLSTATE);
        if (!names_a_lost_connection(state ? state : "")) told = nullptr;
    }
    throw_error(c, told, broken);
}

std::vector<result_ptr> exec_pipeline(PGconn* c, std::span<const statement_call> calls, bool& broken,
                                      pipeline_progress& progress) {
    pipeline_tally tally(calls.size(), progress);
    const auto lost = [&] { tally.lost(c, broken); };
    if (PQenterPipelineMode(c) != 1) lost();
    bool sent = true;
    for (const auto& call : calls) {
        const auto& p = call.bound;
        sent = sent &&
               (call.name ? PQsendQueryPrepared(c, call.name, p.count, p.values, nullptr, nullptr, 0)
                          : PQsendQueryParams(c, call.sql, p.count, nullptr, p.values, nullptr, nullptr, 0));
    }
    sent = sent && PQpipelineSync(c);
    if (!sent) lost();

    // One result per call, each followed by a null; then the sync's result.
    for (std::size_t i = 0; i < calls.size(); ++i) {
        result_ptr last;
        while (PGresult* r = PQgetResult(c)) keep_telling(last, r);
        if (!last) lost();
        tally.take(std::move(last));
    }
    result_ptr sync(PQgetResult(c));
    if (!sync || PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC || PQexitPipelineMode(c) != 1) lost();
    return tally.finish(c, broken);
}

}  // namespace keel::detail::pq
