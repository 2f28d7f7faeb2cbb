// The awaited session: keel::session's transaction rules, with every round trip run by libpq
// in non-blocking mode on the calling thread's event loop (db/pq_async.hpp). Each round trip
// is one pipeline: what is pending (BEGIN, SET LOCAL, savepoints) goes out with the statement,
// and so does the PREPARE of a statement the connection has not seen.

#include <keel/async_session.hpp>
#include <keel/database_error.hpp>
#include <keel/pool_timeout.hpp>

#include "db/database_counters.hpp"
#include "db/outer_transaction.hpp"
#include "db/pooled_connection.hpp"
#include "db/pooled_source.hpp"
#include "db/pq_async.hpp"
#include "db/read_position.hpp"
#include "db/result_data.hpp"
#include "db/savepoint_source.hpp"
#include "db/session_origin.hpp"
#include "db/statement.hpp"
#include "db/transaction_budget.hpp"
#include "io/event_loop.hpp"

#include <algorithm>
#include <iterator>
#include <stdexcept>
#include <utility>

namespace keel {

namespace detail {
struct awaited_checkout {
    static task<engine::lease> checkout(engine& e, std::chrono::milliseconds wait,
                                        const session_origin* holder) {
        return e.checkout_async(wait, holder);
    }
    static task<engine::lease> checkout_for_read(engine& e, std::chrono::milliseconds wait,
                                                 const session_origin* holder, std::uint64_t read_after,
                                                 engine*& replica) {
        return e.checkout_for_read_async(wait, holder, read_after, replica);
    }
    static void replica_failed(engine& e, engine* replica, const std::string& why) noexcept {
        e.replica_failed(replica, why);
    }
};
}  // namespace detail

namespace {

using detail::pq::step;
using clock = std::chrono::steady_clock;

// A statement waiting for the session's next round trip: one keel queued (BEGIN, SET LOCAL, a
// savepoint's), sent as it is, or one the handler deferred, prepared and bound like its own,
// whose result goes to `slot` (the handler's keel::deferred_result) once that round trip's call
// succeeded.
struct queued_statement {
    std::string sql;
    detail::statement_params params;
    std::shared_ptr<detail::result_data> slot;  // null: one keel queued

    static queued_statement control(std::string sql) { return {std::move(sql), {}, nullptr}; }
    bool deferred() const noexcept { return slot != nullptr; }
};

// The steps of one round trip, and what they point at; the statement cache's bookkeeping once
// it is known how many of them took effect. A round trip prepares at most one new statement
// (making room for it is one DEALLOCATE): another new one goes unnamed this time. The steps
// point into it: it stays where it was made.
class round_trip {
public:
    struct size {
        std::size_t statements;  // with parameters, at most
        std::size_t steps;       // at most, besides a DEALLOCATE and a PREPARE
    };
    round_trip(detail::statement_cache& cache, size expected)
        : cache_(cache), statements_(expected.statements) {
        steps_.reserve(expected.steps + 2);
        values_.reserve(expected.statements);
    }
    round_trip(const round_trip&) = delete;
    round_trip& operator=(const round_trip&) = delete;

    void control(const std::string& sql) {
        steps_.push_back({step::kind::statement, sql.c_str(), nullptr, {}});
    }

    // The SET LOCAL statement_timeout in force; a step of it.
    void set_timeout(std::string set_local) { timeout_ = std::move(set_local); }
    void send_timeout() { control(timeout_); }

    void statement(std::string_view sql, const detail::statement_params& params) {
        auto& values = values_.emplace_back();
        values.reserve(params.size());
        for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
        const detail::pq::params bound{static_cast<int>(values.size()), values.data()};
        if (const auto* name = prepared_name(sql)) {
            steps_.push_back({step::kind::execute, nullptr, name, bound});
        } else {
            if (texts_.capacity() == 0) texts_.reserve(statements_);
            steps_.push_back({step::kind::unnamed, texts_.emplace_back(sql).c_str(), nullptr, bound});
        }
    }

    // A statement the handler deferred: its result is for `slot`.
    void deferred(std::string_view sql, const detail::statement_params& params,
                  std::shared_ptr<detail::result_data> slot) {
        statement(sql, params);
        deliveries_.push_back({steps_.size() - 1, std::move(slot)});
    }

    std::span<const step> steps() const noexcept { return steps_; }

    // The round trip's call succeeded: the deferred statements' results are theirs to read.
    void deliver(std::vector<detail::pq::result_ptr>& results) { detail::deliver(deliveries_, results); }

    // The first `completed` steps took effect.
    void settle(std::size_t completed) {
        // By name: a later step may have made the victim the most recently used again.
        if (deallocate_at_ != 0 && completed >= deallocate_at_) cache_.drop(victim_);
        if (prepare_at_ != 0 && completed >= prepare_at_)
            cache_.add(std::move(prepared_text_), std::move(prepared_as_));
    }

private:
    // The name to execute `sql` by (preparing it in this round trip when it may), or null.
    const char* prepared_name(std::string_view sql) {
        if (!cache_.enabled()) return nullptr;
        if (prepare_at_ != 0 && sql == prepared_text_) return prepared_as_.c_str();
        if (const auto* found = cache_.find(sql)) {
            // Deallocated earlier in this round trip to make room: unnamed this time.
            if (deallocate_at_ != 0 && *found == victim_) return nullptr;
            return found->c_str();
        }
        if (prepare_at_ != 0) return nullptr;
        if (const auto* victim = cache_.victim()) {
            victim_ = *victim;
            deallocate_ = "DEALLOCATE " + victim_;
            control(deallocate_);
            deallocate_at_ = steps_.size();
        }
        prepared_text_ = std::string(sql);
        prepared_as_ = cache_.next_name();
        steps_.push_back({step::kind::prepare, prepared_text_.c_str(), prepared_as_.c_str(), {}});
        prepare_at_ = steps_.size();
        return prepared_as_.c_str();
    }

    detail::statement_cache& cache_;
    std::size_t statements_;  // at most, in this round trip
    std::vector<step> steps_;
    std::vector<std::vector<const char*>> values_;  // reserved: the steps point into them
    std::vector<std::string> texts_;                // reserved: unnamed statements' text
    std::vector<detail::deferred_delivery> deliveries_;
    std::string timeout_, victim_, deallocate_, prepared_text_, prepared_as_;
    std::size_t deallocate_at_ = 0;  // the steps up to the DEALLOCATE, 0: none
    std::size_t prepare_at_ = 0;     // the steps up to the PREPARE, 0: none
};

}  // namespace

struct async_session::impl {
    impl(detail::session_origin from, session_options o) : origin(std::move(from)), options(o) {}

    detail::session_origin origin;  // before lease: the engine's bookkeeping refers to it
    session_options options;
    keel::engine* engine = nullptr;                    // a session of its own, from this pool,
    std::shared_ptr<detail::outer_transaction> outer;  // or one that joins a test's transaction
    std::optional<engine::lease> lease;
    std::string savepoint;  // joined: this session's savepoint in the outer transaction
    detail::pooled_connection* connection = nullptr;  // while a transaction is open
    detail::pq::socket_watch* socket = nullptr;       // the connection's, on this session's loop
    std::vector<queued_statement> pending;            // to send with the next round trip
    detail::transaction_budget budget;
    clock::time_point timeout_set_at;
    bool timeout_set = false;  // a SET LOCAL statement_timeout is in the transaction
    bool started = false;      // the opening statement took effect
    bool broken = false;
    bool closed = false;
    bool rollback_due = false;               // the unit that was the whole transaction ended without commit
    std::size_t closing_at = 0;              // the index of the last round trip's COMMIT, if it had one,
    detail::pq::pipeline_progress progress;  // and how far that round trip got
    unsigned savepoints = 0;
    unsigned statements = 0;          // run in the open transaction
    keel::engine* replica = nullptr;  // the replica whose pool `lease` is from (null: the primary)
    bool primary_only = false;        // a replica failed this session: no more replicas

    static impl& usable(const std::unique_ptr<impl>& s) {
        if (!s) throw std::logic_error("keel: this session was moved from; use the session it was moved to");
        if (s->closed)
            throw std::logic_error("keel: this session is closed; open a new one from the session_factory");
        return *s;
    }

    detail::database_counters* counters() const noexcept {
        return engine ? &detail::counters_of(*engine) : nullptr;
    }
    detail::slow_statement_rule slow_statements() const noexcept {
        return engine ? detail::slow_statement_rule::of(engine->options()) : outer->slow;
    }

    // Takes a connection (awaiting the pool) and queues what opens the transaction, ahead of
    // the statements deferred before it began.
    task<void> begin_transaction() {
        auto* loop = detail::this_thread_loop();
        if (!loop) {
            throw std::logic_error(
                "keel: an async_session runs on an event loop: await it in a coroutine handler, or run it "
                "under keel::sync_wait");
        }
        broken = false;
        std::vector<queued_statement> opening;
        budget = detail::transaction_budget::of(
            options, engine ? engine->options().pool_timeout : outer->wait, origin.deadline);
        if (engine) {
            replica = nullptr;
            if (detail::reads_from_replica(*engine, options) && !primary_only) {
                const auto read_after = origin.position ? origin.position->must_see() : 0;
                lease.emplace(co_await detail::awaited_checkout::checkout_for_read(
                    *engine, budget.checkout_wait, &origin, read_after, replica));
            } else {
                lease.emplace(
                    co_await detail::awaited_checkout::checkout(*engine, budget.checkout_wait, &origin));
            }
            connection = &lease->connection();
            opening.push_back(queued_statement::control(detail::begin_statement(options)));
        } else {
            savepoint = outer->acquire();
            connection = &outer->lease.connection();
            opening.push_back(queued_statement::control("SAVEPOINT " + savepoint));
        }
        try {
            socket = &detail::pq::watch_on(connection->watches, *loop, connection->handle);
            connection->affinity = loop;
        } catch (...) {
            broken = true;
            release_keeping_deferred();
            throw;
        }
        if (budget.statement_timeout.count() > 0) {
            try {
                budget.statement_timeout = budget.timeout_now();  // the checkout may have waited
            } catch (...) {
                release_keeping_deferred();  // the deadline passed meanwhile: nothing was sent
                throw;
            }
            opening.push_back(
                queued_statement::control(detail::transaction_budget::set_local(budget.statement_timeout)));
            timeout_set = true;
            timeout_set_at = clock::now();
        }
        pending.insert(pending.begin(), std::make_move_iterator(opening.begin()),
                       std::make_move_iterator(opening.end()));
    }

    // The size of a round trip that sends what is pending and `more`.
    round_trip::size trip_size(round_trip::size more) const noexcept {
        round_trip::size s{more.statements, more.steps + 2 * pending.size() + 1};  // with SET LOCALs
        for (const auto& p : pending) s.statements += p.deferred() ? 1 : 0;
        return s;
    }

    // Adds what is pending to `trip`. The SET LOCAL statement_timeout in force goes again before
    // the next statement when the deadline has come nearer (lowering it) and after a ROLLBACK TO
    // (which may have undone it); control statements take no time, they run before it.
    void add_pending(round_trip& trip) {
        bool timeout_due = false;  // before the next statement (a deferred one, or the round trip's own)
        if (const auto lowered = budget.lowered_timeout(timeout_set_at); lowered.count() > 0) {
            budget.statement_timeout = lowered;
            timeout_set_at = clock::now();
            timeout_set = true;
            timeout_due = true;
        }
        if (timeout_set) trip.set_timeout(detail::transaction_budget::set_local(budget.statement_timeout));
        for (const auto& p : pending) {
            if (p.deferred()) {
                if (timeout_due) trip.send_timeout();
                timeout_due = false;
                trip.deferred(p.sql, p.params, p.slot);
            } else {
                trip.control(p.sql);
                // ROLLBACK TO undoes a SET LOCAL sent after its SAVEPOINT: set it again.
                if (timeout_set && p.sql.starts_with("ROLLBACK TO ")) timeout_due = true;
            }
        }
        if (timeout_due) trip.send_timeout();
    }

    // Runs a round trip's steps; `opening` when the first opens the transaction. Throws what
    // failed; either way what was pending went out.
    task<std::vector<detail::pq::result_ptr>> run_steps(round_trip& trip, bool opening) {
        std::vector<detail::pq::result_ptr> results;
        std::exception_ptr failure;
        try {
            results = co_await detail::pq::run_pipeline(connection->handle, *socket, trip.steps(), broken,
                                                        progress);
        } catch (...) {
            failure = std::current_exception();
        }
        if (opening && progress.completed >= 1) started = true;
        trip.settle(progress.completed);
        pending.clear();
        if (failure) detail::rethrow_statement_failure(failure, origin, budget.from_deadline);
        co_return results;
    }

    // One statement, with whatever is pending, in one round trip; autocommit, with what ends its
    // transaction too.
    task<keel::result> send(std::string_view sql, const detail::statement_params& params) {
        const bool opening = !started;  // pending[0] opens the transaction
        const auto closing = options.autocommit ? closing_statements() : closing_steps{};
        round_trip trip(connection->statements, trip_size({1, 1 + closing.statements.size()}));
        try {
            if (options.autocommit && engine)
                detail::refuse_commit_on_lost_connection(connection->handle, options, broken);
            add_pending(trip);  // (throws deadline_exceeded once the deadline has passed)
        } catch (...) {
            if (options.autocommit) release_keeping_deferred();  // nothing was sent: no connection held
            throw;
        }
        trip.statement(sql, params);
        const std::size_t statement_at = trip.steps().size() - 1;
        closing_at = trip.steps().size();
        for (const auto& c : closing.statements) trip.control(c);
        auto data = std::make_shared<detail::result_data>();
        std::vector<detail::pq::result_ptr> results;
        std::exception_ptr failure;
        {
            const detail::statement_timer timed(counters(), slow_statements(), origin, sql, params);
            try {
                const detail::cancel_on_hangup watched(origin, *connection);
                results = co_await run_steps(trip, opening);
            } catch (...) {
                failure = std::current_exception();
            }
        }
        if (failure) {
            if (options.autocommit) co_await end_failed_autocommit(failure);
            std::rethrow_exception(failure);
        }
        trip.deliver(results);
        data->rows = std::move(results[statement_at]);
        ++statements;
        if (options.autocommit) {  // committed: the connection goes back until the next statement
            started = false;
            if (closing.with_position) note_position(results.back());
            if (auto* counted = counters()) detail::database_counters::count(counted->committed);
            release();
        }
        co_return keel::result(std::move(data));
    }

    // An autocommit statement's round trip failed: its transaction is rolled back (and the
    // connection given back); a lost connection after its COMMIT went out is in doubt, unless
    // PostgreSQL refused a statement before the COMMIT (then the COMMIT never ran).
    task<void> end_failed_autocommit(std::exception_ptr& failure) {
        co_await roll_back_now();
        if (!engine || options.read_only || progress.never_ran(closing_at)) co_return;
        try {
            std::rethrow_exception(failure);
        } catch (const connection_lost& e) {
            if (auto* counted = counters()) detail::database_counters::count(counted->in_doubt);
            failure = std::make_exception_ptr(detail::lost_during_commit(e));
        } catch (...) {
        }
    }

    bool has_deferred() const noexcept {
        for (const auto& p : pending) {
            if (p.deferred()) return true;
        }
        return false;
    }

    // What ends the transaction so that its work stays: COMMIT (and with replicas the WAL
    // position it reached), or, joined, RELEASE SAVEPOINT.
    struct closing_steps {
        std::vector<std::string> statements;
        bool with_position = false;  // the last one reads the commit's position
    };
    closing_steps closing_statements() const {
        if (!engine) return {detail::release_statements(savepoint, timeout_set), false};
        return {detail::commit_statements(*engine, options),
                detail::reports_commit_position(*engine, options)};
    }
    // The position a commit reached, for the request's read-your-writes token. A courtesy: if
    // reading it failed, the request hands out none.
    void note_position(const detail::pq::result_ptr& position) const {
        if (position && detail::pq::succeeded(position.get()))
            detail::note_commit_position(*engine, &origin, position.get());
    }

    // COMMIT (or RELEASE, joined), after whatever is pending, in one round trip. Throws what
    // failed; the caller rolls back.
    task<void> commit_now() {
        if (engine) detail::refuse_commit_on_lost_connection(connection->handle, options, broken);
        const auto [closing, with_position] = closing_statements();
        detail::pq::result_ptr committed, position;  // COMMIT's result (or RELEASE's), and the WAL position's
        std::optional<round_trip> trip;              // with deferred statements: whose results they are
        std::vector<detail::pq::result_ptr> results;
        std::exception_ptr lost;
        try {
            if (has_deferred()) {
                // Statements with parameters: a pipeline. When it succeeds, COMMIT followed them
                // in a transaction no error had aborted.
                const bool opening = !started;
                trip.emplace(connection->statements, trip_size({0, closing.size()}));
                add_pending(*trip);
                const std::size_t closed_at = trip->steps().size() + (with_position ? 0 : closing.size() - 1);
                closing_at = trip->steps().size();
                for (const auto& c : closing) trip->control(c);
                // The deferred statements run in it: bounded, cancelled on a hang-up and timed
                // as a statement is.
                const detail::statement_timer timed(counters(), slow_statements(), origin,
                                                    detail::commit_with_deferred, detail::no_params);
                const detail::cancel_on_hangup watched(origin, *connection);
                results = co_await run_steps(*trip, opening);
                committed = std::move(results[closed_at]);
                if (with_position) position = std::move(results.back());
            } else {
                // One simple query: the cheapest for PostgreSQL to parse.
                std::string text;
                for (const auto& p : pending) text += p.sql + "; ";
                for (std::size_t i = 0; i < closing.size(); ++i) text += (i ? "; " : "") + closing[i];
                const std::size_t closed_at = pending.size() + (with_position ? 0 : closing.size() - 1);
                auto answers = co_await detail::pq::run_each(connection->handle, *socket, text, broken);
                pending.clear();
                for (std::size_t i = 0; i <= closed_at; ++i) {
                    if (i >= answers.size()) detail::pq::throw_error(connection->handle, nullptr, broken);
                    if (!detail::pq::succeeded(answers[i].get()))
                        detail::pq::throw_error(connection->handle, answers[i].get(), broken);
                }
                committed = std::move(answers[closed_at]);
                if (with_position && answers.size() > closed_at + 1)
                    position = std::move(answers[closed_at + 1]);
            }
        } catch (const connection_lost&) {
            lost = std::current_exception();
        }
        pending.clear();
        if (lost) {
            // COMMIT went out and no answer came back: it may have committed. A read-only
            // transaction had nothing to commit: what it read stands (unless statements deferred
            // with the COMMIT are still owed their results).
            if (engine && options.read_only && !trip) {
                broken = true;
                co_return;
            }
            // PostgreSQL refused a statement deferred before the COMMIT: the COMMIT never ran.
            if (!engine || options.read_only || (trip && progress.never_ran(closing_at)))
                std::rethrow_exception(lost);
            try {
                std::rethrow_exception(lost);
            } catch (const connection_lost& e) {
                throw detail::lost_during_commit(e);
            }
        }
        if (engine) {
            // PostgreSQL answers COMMIT of a transaction an earlier error aborted with a quiet
            // ROLLBACK: that is a failure, never a success.
            if (committed && std::string_view(PQcmdStatus(committed.get())) == "ROLLBACK") {
                throw database_error(
                    "keel: the transaction was aborted by an earlier error and rolled back, not committed",
                    "25P02");
            }
            note_position(position);
        }
        if (trip) trip->deliver(results);
        if (PQstatus(connection->handle) != CONNECTION_OK) broken = true;
    }

    // Ends the transaction: commit (unless a unit left it to be rolled back) or roll back.
    task<void> end(bool commit) {
        const bool to_commit = commit && !rollback_due;
        if (!started && !(to_commit && has_deferred())) {  // nothing was sent: nothing to commit or undo
            release();
            co_return;
        }
        if (!to_commit) {
            co_await roll_back_now();
            co_return;
        }
        auto* counted = counters();
        std::exception_ptr failure;
        try {
            co_await commit_now();
        } catch (const commit_in_doubt&) {
            if (counted) detail::database_counters::count(counted->in_doubt);
            release();  // the connection is broken: nothing to roll back
            throw;
        } catch (...) {
            failure = std::current_exception();
        }
        if (failure) {
            co_await roll_back_now();
            std::rethrow_exception(failure);
        }
        if (counted) detail::database_counters::count(counted->committed);
        release();
    }

    // Never throws: a connection that cannot roll back is closed instead.
    task<void> roll_back_now() noexcept {
        if (!connection) {
            pending.clear();  // deferred without a transaction: never sent
            co_return;
        }
        if (started) {
            if (auto* counted = counters()) detail::database_counters::count(counted->rolled_back);
            if (!broken) {
                std::vector<std::string> undo;
                if (engine) {
                    undo.emplace_back("ROLLBACK");
                } else {
                    undo.push_back("ROLLBACK TO SAVEPOINT " + savepoint);
                    undo.push_back("RELEASE SAVEPOINT " + savepoint);
                }
                std::string text;
                for (std::size_t i = 0; i < undo.size(); ++i) text += (i ? "; " : "") + undo[i];
                try {
                    co_await detail::pq::run_simple(connection->handle, *socket, text, broken);
                } catch (...) {
                    broken = true;
                }
            }
        }
        release();
    }

    // Gives the connection back (a broken one is closed).
    void release() noexcept {
        if (socket) {
            detail::pq::give_back_blocking(connection->handle);  // as the blocking session expects it
            socket = nullptr;
        }
        connection = nullptr;
        pending.clear();
        started = false;
        savepoints = 0;
        statements = 0;
        rollback_due = false;
        timeout_set = false;
        if (engine) {
            if (lease) {
                if (broken) lease->mark_broken();
                lease.reset();
            }
        } else if (!savepoint.empty()) {
            if (broken) outer->broken = true;  // the outer transaction is lost with its connection
            savepoint.clear();
            outer->release();
        }
    }

    // Gives the connection back before anything pending was sent: what the handler deferred is
    // still to go, with the next statement or the commit.
    void release_keeping_deferred() noexcept {
        std::erase_if(pending, [](const queued_statement& p) { return !p.deferred(); });
        auto kept = std::move(pending);
        release();
        pending = std::move(kept);
    }

    // A read on a replica whose connection was lost may run again on the primary when nothing
    // the handler saw depends on the replica's transaction: no savepoint, and either nothing
    // read yet or READ COMMITTED (where each statement sees a snapshot of its own anyway).
    bool may_move_to_primary() const noexcept {
        return replica != nullptr && savepoints == 0 && !rollback_due &&
               (statements == 0 || options.isolation == isolation::read_committed);
    }
    void move_to_primary(const std::string& why) noexcept {
        detail::awaited_checkout::replica_failed(*engine, replica, why);
        replica = nullptr;
        primary_only = true;
        broken = true;  // the lost connection is closed, not returned
        release();
    }

    // Queued to go out with the next statement: no round trip of its own.
    void queue(std::string statement) { pending.push_back(queued_statement::control(std::move(statement))); }

    // Rolls back the transaction a unit left to be rolled back; what was deferred since then
    // belongs to the next one.
    task<void> end_rolled_back_unit() {
        auto next = std::move(pending);
        pending.clear();
        co_await end(false);
        pending = std::move(next);
    }
};

async_session::async_session(keel::engine& e, session_options options, call_site where)
    : impl_(std::make_unique<impl>(detail::session_origin::here(where), options)) {
    impl_->engine = &e;
}

async_session::async_session(std::shared_ptr<detail::outer_transaction> outer, session_options options,
                             call_site where)
    : impl_(std::make_unique<impl>(detail::session_origin::here(where), options)) {
    impl_->outer = std::move(outer);
}

async_session::async_session(async_session&&) noexcept = default;

async_session::~async_session() {
    if (!impl_ || !impl_->connection) return;
    auto& s = *impl_;
    if (s.started) {
        if (auto* counted = s.counters()) detail::database_counters::count(counted->rolled_back);
        if (s.engine) {
            // No ROLLBACK can be awaited here: closing the connection rolls back on the server.
            s.broken = true;
        } else if (!s.broken) {
            // A test's outer transaction must survive: undo this session's part, blocking (the
            // isolated database is for tests; its connection is theirs alone).
            auto* handle = s.connection->handle;
            if (s.socket) detail::pq::give_back_blocking(handle);
            s.socket = nullptr;
            try {
                detail::pq::exec(handle, "ROLLBACK TO SAVEPOINT " + s.savepoint, s.broken);
                detail::pq::exec(handle, "RELEASE SAVEPOINT " + s.savepoint, s.broken);
            } catch (...) {
                s.broken = true;
            }
        }
        s.started = false;
    }
    s.release();
}

bool async_session::in_transaction() const noexcept {
    return impl_ && impl_->connection != nullptr;
}

task<keel::result> async_session::run(std::string_view sql, std::vector<std::optional<std::string>> params) {
    auto& s = impl::usable(impl_);
    detail::refuse_nul_bytes(sql, params);
    if (s.rollback_due) co_await s.end_rolled_back_unit();
    if (!s.connection)
        co_await s.begin_transaction();  // (an autocommit one gives its connection back on failure)
    const bool carries_deferred = s.has_deferred();  // lost with the connection: not to be sent twice
    std::string lost;
    try {
        co_return co_await s.send(sql, params);
    } catch (const connection_lost& e) {
        if (carries_deferred || !s.may_move_to_primary()) throw;
        lost = e.what();
    }
    s.move_to_primary(lost);  // the replica went away under the read: the primary answers it
    co_await s.begin_transaction();
    co_return co_await s.send(sql, params);
}

deferred_result async_session::defer(std::string_view sql, std::vector<std::optional<std::string>> params) {
    auto& s = impl::usable(impl_);
    detail::refuse_nul_bytes(sql, params);
    auto slot = std::make_shared<detail::result_data>();
    s.pending.push_back({std::string(sql), std::move(params), slot});
    return deferred_result(std::move(slot));
}

task<void> async_session::commit() {
    if (!impl_) co_return;  // moved from: its transaction went with the move
    auto& s = impl::usable(impl_);
    if (s.rollback_due) co_await s.end_rolled_back_unit();
    if (!s.connection) {
        if (!s.has_deferred()) co_return;
        co_await s.begin_transaction();  // statements were deferred before any other
    }
    co_await s.end(true);
}

task<void> async_session::rollback() {
    if (!impl_) co_return;
    co_await impl_->roll_back_now();
}

task<async_session::unit> async_session::begin() {
    auto& s = impl::usable(impl_);
    detail::refuse_units_in_autocommit(s.options);
    if (s.rollback_due) co_await s.end_rolled_back_unit();
    if (!s.connection && !s.has_deferred()) {
        co_await s.begin_transaction();
        co_return unit(*this, {});
    }
    if (!s.connection) co_await s.begin_transaction();  // statements were deferred: they begin it
    std::string name = "keel_sp_" + std::to_string(++s.savepoints);
    s.queue("SAVEPOINT " + name);
    co_return unit(*this, std::move(name));
}

async_session::unit::unit(async_session& s, std::string savepoint) noexcept
    : session_(&s), savepoint_(std::move(savepoint)) {}

async_session::unit::unit(unit&& other) noexcept
    : session_(std::exchange(other.session_, nullptr)), savepoint_(std::move(other.savepoint_)) {}

async_session::unit::~unit() {
    roll_back_later();
}

task<void> async_session::unit::commit() {
    if (!session_) throw std::logic_error("keel: this unit of work is already finished");
    auto* s = std::exchange(session_, nullptr);
    if (savepoint_.empty()) {
        co_await s->commit();
    } else if (s->impl_ && s->impl_->connection) {
        s->impl_->queue("RELEASE SAVEPOINT " + savepoint_);
    }
}

task<void> async_session::unit::rollback() {
    if (session_ && savepoint_.empty()) {
        co_await std::exchange(session_, nullptr)->rollback();
        co_return;
    }
    roll_back_later();
}

void async_session::unit::roll_back_later() noexcept {
    auto* s = std::exchange(session_, nullptr);
    if (!s || !s->impl_ || !s->impl_->connection) return;  // the whole transaction already ended (or moved)
    auto& state = *s->impl_;
    try {
        // What is pending from this unit on was never sent: it goes with the unit.
        if (savepoint_.empty()) {
            state.pending.clear();
            state.rollback_due = true;
            return;
        }
        const auto opened = std::find_if(state.pending.begin(), state.pending.end(), [&](const auto& p) {
            return !p.deferred() && p.sql == "SAVEPOINT " + savepoint_;
        });
        if (opened != state.pending.end()) {
            state.pending.erase(opened, state.pending.end());  // the savepoint too: nothing to undo
        } else {
            state.pending.clear();  // all queued after the savepoint went out
            state.queue("ROLLBACK TO SAVEPOINT " + savepoint_);
            state.queue("RELEASE SAVEPOINT " + savepoint_);
        }
    } catch (...) {
        state.rollback_due = true;  // out of memory: the whole transaction goes instead
    }
}

async_session session_factory::open_async(call_site where) const {
    return open_async(defaults_, where);
}

async_session session_factory::open_async(session_options options, call_site where) const {
    return outer_ ? async_session(outer_, options, where) : async_session(*engine_, options, where);
}

}  // namespace keel
