#include <keel/database_error.hpp>
#include <keel/logger.hpp>
#include <keel/model.hpp>  // detail::append_json_string
#include <keel/pool_timeout.hpp>
#include <keel/session.hpp>

#include <keel/detail/blocking.hpp>

#include "db/pooled_source.hpp"
#include "db/pq.hpp"
#include "db/result_data.hpp"
#include "db/savepoint_source.hpp"
#include "db/session_origin.hpp"
#include "db/statement.hpp"
#include "db/transaction_budget.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <exception>
#include <span>
#include <stdexcept>

namespace keel {

namespace {

// A statement exec_deferred() queued: sent with the session's next round trip; its result goes
// to `slot` (the caller's keel::deferred_result) once that round trip's call succeeded.
struct deferred_statement {
    std::string sql;
    detail::statement_params params;
    std::shared_ptr<detail::result_data> slot;
};

// What a round trip answered: the result of its statement (null when it had none), and of its
// last call (a commit's position query).
struct round_trip_answer {
    detail::pq::result_ptr statement;
    detail::pq::result_ptr last;
};

// What a statement's call points at: its parameters' text pointers, and its text when unnamed.
struct call_storage {
    std::vector<const char*> values;
    std::string unnamed;  // libpq wants the text NUL-terminated
};

}  // namespace

// A session's transaction begins lazily: begin_transaction() takes a connection from the
// session's source and queues the statements that open the transaction (BEGIN, or a SAVEPOINT)
// in `pending`; the first statement sends them in the same round trip. A session that ends
// before any statement sent nothing at all.
struct session::impl {
    impl(detail::session_origin from, session_options o) : origin(std::move(from)), options(o) {}

    detail::session_origin origin;  // before source: the source's lease refers to it
    std::unique_ptr<detail::transaction_source> source;
    session_options options;
    detail::pooled_connection* connection = nullptr;  // while a transaction is open
    std::vector<std::string> pending;                 // to send before the next statement
    std::vector<deferred_statement> deferred;         // to send after them (exec_deferred)
    bool closing_sent = false;   // the COMMIT of execute()'s or end_transaction()'s round trip went out,
    std::size_t closing_at = 0;  // as its call at this index,
    detail::pq::pipeline_progress progress;  // and that round trip got this far
    bool started = false;                    // the opening statement took effect
    bool broken = false;
    bool hung_up_midway = false;  // a call stopped for a hang-up after part of it ran: no commit
    bool closed = false;
    unsigned savepoints = 0;
    unsigned statements = 0;  // run in the open transaction
    detail::transaction_budget budget;
    std::chrono::steady_clock::time_point timeout_set_at;

    PGconn* handle() const noexcept { return connection->handle; }

    // The session behind `s`, or a clear error when it cannot be used.
    static impl& usable(const std::unique_ptr<impl>& s) {
        if (!s) throw std::logic_error("keel: this session was moved from; use the session it was moved to");
        if (s->closed)
            throw std::logic_error("keel: this session is closed; open a new one from the session_factory");
        return *s;
    }

    // Runs a control statement (SAVEPOINT ...) after anything pending or deferred, in the same
    // round trip: the deferred statements have their results only when it succeeded too.
    void control(const std::string& sql) {
        if (pending.empty() && deferred.empty()) {
            detail::pq::exec(handle(), sql, broken);
            return;
        }
        send_all({}, nullptr, {sql});
    }
    void flush() {
        if (!pending.empty() || !deferred.empty()) send_all({}, nullptr, {});
    }
    // The name `sql` is prepared under on the connection, preparing it first (and deallocating
    // the least recently used statement when the connection's cache is full); null when it is
    // to go unnamed, because making room would deallocate one of the names `in_use`.
    const std::string* prepared_name(std::string_view sql, std::span<const char* const> in_use) {
        auto& cache = connection->statements;
        if (const auto* name = cache.find(sql)) return name;
        if (const auto* victim = cache.victim()) {
            if (std::find(in_use.begin(), in_use.end(), victim->c_str()) != in_use.end()) return nullptr;
            detail::pq::exec(handle(), "DEALLOCATE " + *victim, broken);
            cache.drop_victim();
            detail::throw_if_hung_up(origin);  // (see send_all's next_exchange)
        }
        std::string text(sql);
        std::string name = cache.next_name();
        detail::pq::prepare(handle(), name, text, broken);
        cache.add(std::move(text), std::move(name));
        return cache.find(sql);
    }

    void begin_transaction() {
        broken = false;
        budget = detail::transaction_budget::of(options, source->pool_timeout(), origin.deadline);
        auto bounded = options;
        bounded.pool_timeout = budget.checkout_wait;
        connection = &source->open(bounded, pending);
        if (budget.statement_timeout.count() > 0) {
            budget.statement_timeout = budget.timeout_now();  // the checkout may have waited
            pending.push_back(detail::transaction_budget::set_local(budget.statement_timeout));
            timeout_set_at = std::chrono::steady_clock::now();
        }
    }

    // As the deadline nears, the statement_timeout BEGIN set may outlast it: lower it.
    void bound_by_deadline() {
        if (const auto lowered = budget.lowered_timeout(timeout_set_at); lowered.count() > 0) {
            pending.push_back(detail::transaction_budget::set_local(lowered));
            budget.statement_timeout = lowered;
            timeout_set_at = std::chrono::steady_clock::now();
        }
    }

    // A joined transaction undoes its SET LOCAL statement_timeout at its end, which the
    // request's deadline may have sent without the session's option: hence begun_with().
    void end_transaction() {
        if (hung_up_midway) detail::throw_if_hung_up(origin);  // what ran of that call is not committed
        if (!started && deferred.empty()) return;              // nothing was sent: nothing to commit
        if (deferred.empty()) {
            flush();
            source->commit(*connection, begun_with(), broken);
            return;
        }
        // What was deferred goes out with the COMMIT, in one round trip. When that succeeds, COMMIT
        // followed them in a transaction no error had aborted (else it would have been skipped).
        bound_by_deadline();
        const auto begun = begun_with();
        const auto closing = source->closing(*connection, begun, broken);
        round_trip_answer answer;
        closing_sent = false;
        try {
            answer = send_watched(detail::commit_with_deferred, detail::no_params, {}, nullptr, closing);
        } catch (const connection_lost& e) {
            if (!in_doubt_when_lost(begun)) throw;
            throw detail::lost_during_commit(e);
        }
        source->closed(answer.last.get(), begun);
        if (PQstatus(handle()) != CONNECTION_OK) broken = true;
    }

    // Whether a connection lost in the round trip that just ran leaves a commit in doubt: its
    // COMMIT went out, there was something to commit, the outcome is PostgreSQL's to tell (a
    // test's RELEASE SAVEPOINT is rolled back with its outer transaction anyway), and PostgreSQL
    // did not refuse a statement before the COMMIT (then the COMMIT never ran).
    bool in_doubt_when_lost(const session_options& begun) const noexcept {
        return closing_sent && !begun.read_only && source->commit_may_be_in_doubt() &&
               !progress.never_ran(closing_at);
    }

    // A call of `sql` with `params`, by its prepared name when the connection's cache is on.
    detail::pq::statement_call bind(std::string_view sql, const detail::statement_params& params,
                                    call_storage& storage, std::vector<const char*>& names) {
        storage.values.reserve(params.size());
        for (const auto& p : params) storage.values.push_back(p ? p->c_str() : nullptr);
        detail::pq::statement_call call{
            nullptr, nullptr, {static_cast<int>(storage.values.size()), storage.values.data()}};
        const auto* name = connection->statements.enabled() ? prepared_name(sql, names) : nullptr;
        if (name) {
            call.name = name->c_str();
            names.push_back(call.name);
        } else {
            storage.unnamed = sql;
            call.sql = storage.unnamed.c_str();
        }
        return call;
    }

    // Sends what is pending, what was deferred, then the statement (when `params` is given) and
    // `closing` (what commits the transaction, or a control statement), in one round trip;
    // returns the statement's result and the last call's, and hands the deferred statements
    // their results. Throws what failed; all went out then, unless it failed before anything
    // did (PostgreSQL refused to prepare the first statement, the client hung up): then what
    // was pending and deferred is still to go, as if the call had not been made.
    round_trip_answer send_all(std::string_view sql, const detail::statement_params* params,
                               const std::vector<std::string>& closing) {
        const std::size_t count = deferred.size() + (params ? 1 : 0);
        auto preamble = std::move(pending);
        auto sent_deferred = std::move(deferred);  // the calls point into their parameters
        pending.clear();
        deferred.clear();
        std::vector<call_storage> storage(count);
        std::vector<const char*> names;  // prepared names the round trip uses: none is deallocated
        names.reserve(count);
        std::vector<detail::pq::statement_call> calls;
        calls.reserve(preamble.size() + count + closing.size());
        for (const auto& p : preamble) calls.push_back({nullptr, p.c_str(), {}});
        bool opening = !preamble.empty() && !started;       // calls[0] opens the transaction
        std::vector<detail::deferred_delivery> deliveries;  // of the calls not yet run
        std::vector<std::pair<std::shared_ptr<detail::result_data>, detail::pq::result_ptr>> arrived;
        bool exchanged = false;  // with PostgreSQL, in this call: a PREPARE, or calls sent
        bool sent = false;       // calls went out: what was pending and deferred is gone
        // A cancel that reached the backend idle between two exchanges was ignored: the next
        // one is not made for a client that hung up.
        const auto next_exchange = [&] {
            if (exchanged) detail::throw_if_hung_up(origin);
            exchanged = true;
        };
        const auto unsend = [&] {
            pending = std::move(preamble);
            deferred = std::move(sent_deferred);
            closing_sent = false;
        };
        // On failure, started says whether there is a transaction to roll back.
        const auto run = [&] {
            next_exchange();
            sent = true;
            try {
                auto results = detail::pq::exec_pipeline(handle(), calls, broken, progress);
                started = started || (opening && progress.completed >= 1);
                opening = false;
                calls.clear();
                for (auto& d : deliveries) arrived.emplace_back(std::move(d.slot), std::move(results[d.at]));
                deliveries.clear();
                return results;
            } catch (...) {
                started = started || (opening && progress.completed >= 1);
                throw;
            }
        };
        // A statement is prepared (synchronously, before the round trip) after what must come
        // first ran: a deferred statement ahead of it (it may create what the statement needs),
        // and in a test's outer transaction the SAVEPOINT (a statement that fails to parse there
        // aborts only that).
        bool must_run_first = source->prepare_after_opening() && !calls.empty();
        const auto add = [&](std::string_view text, const detail::statement_params& values, call_storage& s) {
            if (connection->statements.enabled() && !connection->statements.find(text)) {
                if (must_run_first) run();
                next_exchange();  // its PREPARE
            }
            calls.push_back(bind(text, values, s, names));
            must_run_first = true;  // a deferred statement, or this one
        };
        round_trip_answer answer;
        try {
            for (std::size_t i = 0; i < sent_deferred.size(); ++i) {
                add(sent_deferred[i].sql, sent_deferred[i].params, storage[i]);
                deliveries.push_back({calls.size() - 1, sent_deferred[i].slot});
            }
            if (params) add(sql, *params, storage.back());
            if (calls.size() == 1 && params && closing.empty() && !opening) {
                next_exchange();
                sent = true;
                answer.statement = detail::pq::exec_statement(handle(), calls.front(), broken);
            } else {
                const std::size_t statement_at = calls.size() - 1;
                closing_at = calls.size();
                for (const auto& c : closing) calls.push_back({nullptr, c.c_str(), {}});
                closing_sent = !closing.empty();
                auto results = run();
                answer = {std::move(results[statement_at]), std::move(results.back())};
            }
        } catch (const client_hung_up&) {  // (only throw_if_hung_up throws it here)
            if (sent)
                hung_up_midway = true;  // what went out ran, with no error to abort the transaction
            else
                unsend();
            throw;
        } catch (...) {
            if (!sent) unsend();
            throw;
        }
        // Every call succeeded: the deferred statements' results are theirs to read.
        for (auto& [slot, result] : arrived) slot->rows = std::move(result);
        return answer;
    }

    // send_all() run as a statement is: timed into the histogram and slow log as `timed_sql`,
    // cancelled when the client hangs up, a cancellation named for the deadline or the hang-up
    // that caused it.
    round_trip_answer send_watched(std::string_view timed_sql, const detail::statement_params& timed_params,
                                   std::string_view sql, const detail::statement_params* params,
                                   const std::vector<std::string>& closing) {
        const detail::statement_timer timed(source->counters(), source->slow_statements(), origin, timed_sql,
                                            timed_params);
        try {
            const detail::cancel_on_hangup watched(origin, *connection);
            return send_all(sql, params, closing);
        } catch (...) {
            detail::rethrow_statement_failure(std::current_exception(), origin, budget.from_deadline);
        }
    }

    // One statement, beginning the transaction first when none is open; autocommit, with what
    // commits it in the same round trip (a failed one is rolled back).
    keel::result execute(std::string_view sql, const std::vector<std::optional<std::string>>& params) {
        auto data = std::make_shared<detail::result_data>();
        std::vector<std::string> closing;
        round_trip_answer answer;
        closing_sent = false;
        session_options begun;
        try {
            if (!connection) begin_transaction();
            bound_by_deadline();
            begun = begun_with();
            if (options.autocommit) closing = source->closing(*connection, begun, broken);
            answer = send_watched(sql, params, sql, &params, closing);
        } catch (const connection_lost& e) {
            // Not autocommit, or lost before the COMMIT went out, or nothing to commit: lost.
            if (!in_doubt_when_lost(begun)) {
                if (options.autocommit) roll_back_keeping_deferred();
                throw;
            }
            auto* counters = source->counters();
            if (counters) detail::database_counters::count(counters->in_doubt);
            release();  // the connection is broken: nothing to roll back
            throw detail::lost_during_commit(e);
        } catch (...) {
            if (options.autocommit) roll_back_keeping_deferred();
            throw;
        }
        data->rows = std::move(answer.statement);
        ++statements;
        if (options.autocommit) {  // committed: the connection goes back until the next statement
            source->closed(answer.last.get(), begun);
            if (auto* counters = source->counters()) detail::database_counters::count(counters->committed);
            started = false;
            release();
        }
        return keel::result(std::move(data));
    }

    // The options the open transaction was begun with: its statement_timeout may be the
    // request deadline's, sent without the session's option.
    session_options begun_with() const {
        auto begun = options;
        begun.statement_timeout = budget.statement_timeout;
        return begun;
    }

    // Commits the transaction and gives the connection back; rolls back what failed to commit.
    void finish() {
        auto* counters = source->counters();
        const bool sent = started || !deferred.empty();
        try {
            end_transaction();
        } catch (const commit_in_doubt&) {
            if (counters) detail::database_counters::count(counters->in_doubt);
            release();  // the connection is broken: nothing to roll back
            throw;
        } catch (...) {
            roll_back();
            throw;
        }
        if (counters && sent) detail::database_counters::count(counters->committed);
        release();
    }

    // Gives the connection back to the source (which closes a broken one).
    void release() noexcept {
        connection = nullptr;
        pending.clear();
        deferred.clear();
        started = false;
        hung_up_midway = false;
        savepoints = 0;
        statements = 0;
        source->close(broken);
    }

    // A read on a replica whose connection was lost may run again on the primary when nothing
    // the handler saw depends on the replica's transaction: no savepoint, and either nothing
    // read yet or READ COMMITTED (where each statement sees a snapshot of its own anyway).
    bool may_move_to_primary() const noexcept {
        return source->on_replica() && savepoints == 0 &&
               (statements == 0 || options.isolation == isolation::read_committed);
    }
    void move_to_primary(const std::string& why) noexcept {
        broken = true;  // the lost connection is closed, not returned
        source->leave_replica(why);
        release();
    }

    // Rolls back; what was deferred and never sent is still to go (with the next statement or
    // the commit).
    void roll_back_keeping_deferred() noexcept {
        auto kept = std::move(deferred);
        roll_back();
        deferred = std::move(kept);
    }

    void roll_back() noexcept {
        if (!connection) {
            deferred.clear();  // deferred without a transaction: never sent
            return;
        }
        if (started) {  // else nothing was sent: nothing to undo
            if (auto* counters = source->counters()) detail::database_counters::count(counters->rolled_back);
            try {
                source->roll_back(*connection, broken);
            } catch (...) {
                broken = true;  // a connection that cannot roll back is not handed out again
            }
        }
        release();
    }
};

session::session(keel::engine& e, session_options options, call_site where)
    : impl_(std::make_unique<impl>(detail::session_origin::here(where), options)) {
    impl_->source = std::make_unique<detail::pooled_source>(e, &impl_->origin);
}

session::session(std::shared_ptr<detail::outer_transaction> outer, session_options options, call_site where)
    : impl_(std::make_unique<impl>(detail::session_origin::here(where), options)) {
    impl_->source = std::make_unique<detail::savepoint_source>(std::move(outer));
}

session::session(session&&) noexcept = default;

session::~session() {
    if (impl_) impl_->roll_back();
}

bool session::in_transaction() const noexcept {
    return impl_ && impl_->connection != nullptr;
}

deferred_result session::defer(std::string_view sql, std::vector<std::optional<std::string>> params) {
    auto& s = impl::usable(impl_);
    detail::refuse_nul_bytes(sql, params);
    auto slot = std::make_shared<detail::result_data>();
    s.deferred.push_back({std::string(sql), std::move(params), slot});
    return deferred_result(std::move(slot));
}

keel::result session::run(std::string_view sql, const std::vector<std::optional<std::string>>& params) {
    auto& s = impl::usable(impl_);
    detail::require_blocking_allowed("keel::session::exec");
    detail::refuse_nul_bytes(sql, params);
    const bool carries_deferred = !s.deferred.empty();  // lost with the connection: not to be sent twice
    try {
        return s.execute(sql, params);
    } catch (const connection_lost& e) {
        if (carries_deferred || !s.may_move_to_primary()) throw;
        s.move_to_primary(e.what());  // the replica went away under the read: the primary answers it
    }
    return s.execute(sql, params);
}

void session::commit() {
    if (!impl_) return;  // moved from: its transaction went with the move
    auto& s = impl::usable(impl_);
    if (!s.connection && s.deferred.empty()) return;
    detail::require_blocking_allowed("keel::session::commit");
    if (!s.connection) s.begin_transaction();  // statements were deferred before any other
    s.finish();
}

void session::rollback() noexcept {
    if (impl_) impl_->roll_back();
}

void session::close() noexcept {
    if (!impl_) return;
    impl_->roll_back();
    impl_->closed = true;
}

session::unit session::begin() {
    auto& s = impl::usable(impl_);
    detail::require_blocking_allowed("keel::session::begin");
    detail::refuse_units_in_autocommit(s.options);
    if (!s.connection && s.deferred.empty()) {
        s.begin_transaction();
        return unit(*this, {});
    }
    if (!s.connection) s.begin_transaction();  // statements were deferred: they begin it
    std::string name = "keel_sp_" + std::to_string(++s.savepoints);
    s.control("SAVEPOINT " + name);
    return unit(*this, std::move(name));
}

session::unit::unit(session& s, std::string savepoint) noexcept
    : session_(&s), savepoint_(std::move(savepoint)) {}

session::unit::unit(unit&& other) noexcept
    : session_(std::exchange(other.session_, nullptr)), savepoint_(std::move(other.savepoint_)) {}

session::unit::~unit() {
    rollback();
}

void session::unit::commit() {
    if (!session_) throw std::logic_error("keel: this unit of work is already finished");
    auto* s = std::exchange(session_, nullptr);
    if (savepoint_.empty()) {
        s->commit();
    } else if (s->impl_ && s->impl_->connection) {
        s->impl_->control("RELEASE SAVEPOINT " + savepoint_);
    }
}

void session::unit::rollback() noexcept {
    auto* s = std::exchange(session_, nullptr);
    if (!s) return;
    if (savepoint_.empty()) {
        s->rollback();
        return;
    }
    if (!s->impl_ || !s->impl_->connection) return;  // the whole transaction already ended (or moved)
    // Each control statement sends what was deferred: what is deferred now was deferred after
    // this unit's SAVEPOINT, and goes with the unit, unsent.
    s->impl_->deferred.clear();
    try {
        s->impl_->control("ROLLBACK TO SAVEPOINT " + savepoint_);
        s->impl_->control("RELEASE SAVEPOINT " + savepoint_);
        // ROLLBACK TO undoes a lower statement_timeout sent inside the unit: set it again.
        if (s->impl_->budget.statement_timeout.count() > 0)
            s->impl_->pending.push_back(
                detail::transaction_budget::set_local(s->impl_->budget.statement_timeout));
    } catch (...) {
        s->impl_->roll_back();  // the transaction cannot be trusted any more
    }
}

}  // namespace keel
