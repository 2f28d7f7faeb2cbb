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
#include "db/session_origin.hpp"
#include "db/statement.hpp"
#include "db/transaction_budget.hpp"
#include "io/event_loop.hpp"

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

step statement_step(const std::string& sql) {
    return {step::kind::statement, sql.c_str(), nullptr, {}};
}

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
    std::vector<std::string> pending;                 // to send with the next statement
    detail::transaction_budget budget;
    clock::time_point timeout_set_at;
    bool timeout_set = false;  // a SET LOCAL statement_timeout is in the transaction
    bool started = false;      // the opening statement took effect
    bool broken = false;
    bool closed = false;
    bool rollback_due = false;  // the unit that was the whole transaction ended without commit
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

    // Takes a connection (awaiting the pool) and queues what opens the transaction.
    task<void> begin_transaction() {
        auto* loop = detail::this_thread_loop();
        if (!loop) {
            throw std::logic_error(
                "keel: an async_session runs on an event loop: await it in a coroutine handler, or run it "
                "under keel::sync_wait");
        }
        broken = false;
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
            pending.push_back(detail::begin_statement(options));
        } else {
            savepoint = outer->acquire();
            connection = &outer->lease.connection();
            pending.push_back("SAVEPOINT " + savepoint);
        }
        try {
            socket = &detail::pq::watch_on(connection->watches, *loop, connection->handle);
            connection->affinity = loop;
        } catch (...) {
            broken = true;
            release();
            throw;
        }
        if (budget.statement_timeout.count() > 0) {
            budget.statement_timeout = budget.timeout_now();  // the checkout may have waited
            pending.push_back(detail::transaction_budget::set_local(budget.statement_timeout));
            timeout_set = true;
            timeout_set_at = clock::now();
        }
    }

    // One statement, with whatever is pending, in one round trip.
    task<keel::result> send(std::string_view sql, const detail::statement_params& params) {
        if (const auto lowered = budget.lowered_timeout(timeout_set_at); lowered.count() > 0) {
            pending.push_back(detail::transaction_budget::set_local(lowered));
            budget.statement_timeout = lowered;
            timeout_set_at = clock::now();
        }
        auto& pooled = *connection;
        std::vector<step> steps;
        steps.reserve(pending.size() + 3);
        for (const auto& p : pending) steps.push_back(statement_step(p));
        const bool opening = !started;  // pending[0] opens the transaction
        auto& cache = pooled.statements;
        std::string text, prepared_name;  // a statement's text when sent unnamed or prepared now
        std::size_t prepare_at = 0;       // 0: the statement is prepared already, or not at all
        std::size_t deallocate_at = 0;    // the step that makes room for it, if any
        std::string deallocate;
        const char* name = nullptr;
        if (!cache.enabled()) {
            text = std::string(sql);
        } else if (const auto* found = cache.find(sql)) {
            name = found->c_str();
        } else {
            if (const auto* victim = cache.victim()) {
                deallocate = "DEALLOCATE " + *victim;
                steps.push_back(statement_step(deallocate));
                deallocate_at = steps.size();
            }
            text = std::string(sql);
            prepared_name = cache.next_name();
            name = prepared_name.c_str();
            steps.push_back({step::kind::prepare, text.c_str(), name, {}});
            prepare_at = steps.size();
        }
        std::vector<const char*> values;
        values.reserve(params.size());
        for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
        const detail::pq::params bound{static_cast<int>(values.size()), values.data()};
        if (name) {
            steps.push_back({step::kind::execute, nullptr, name, bound});
        } else {
            steps.push_back({step::kind::unnamed, text.c_str(), nullptr, bound});
        }

        auto data = std::make_shared<detail::result_data>();
        std::size_t completed = 0;
        std::exception_ptr failure;
        {
            const detail::statement_timer timed(counters(), slow_statements(), origin, sql, params);
            try {
                const detail::cancel_on_hangup watched(origin, pooled);
                data->rows =
                    co_await detail::pq::run_pipeline(pooled.handle, *socket, steps, broken, completed);
            } catch (...) {
                failure = std::current_exception();
            }
        }
        if (opening && completed >= 1) started = true;
        if (deallocate_at != 0 && completed >= deallocate_at) cache.drop_victim();
        if (prepare_at != 0 && completed >= prepare_at) cache.add(std::move(text), std::move(prepared_name));
        pending.clear();
        if (failure) detail::rethrow_statement_failure(failure, origin, budget.from_deadline);
        ++statements;
        co_return keel::result(std::move(data));
    }

    // COMMIT (or RELEASE, joined), after whatever is pending. Throws what failed; the caller
    // rolls back.
    task<void> commit_now() {
        std::vector<std::string> closing;
        if (engine) {
            detail::refuse_commit_on_lost_connection(connection->handle, options, broken);
            closing.push_back(
                detail::commit_statement(*engine, options));  // (with replicas: and the WAL position)
        } else {
            // SET LOCAL outlives RELEASE SAVEPOINT: undo it, as a real COMMIT would.
            if (timeout_set) closing.emplace_back("SET LOCAL statement_timeout TO DEFAULT");
            closing.push_back("RELEASE SAVEPOINT " + savepoint);
        }
        // One simple query (the cheapest for PostgreSQL to parse), whatever is pending first.
        std::string text;
        for (const auto& p : pending) text += p + "; ";
        for (std::size_t i = 0; i < closing.size(); ++i) text += (i ? "; " : "") + closing[i];
        const std::size_t closed_at = pending.size() + closing.size() - 1;  // COMMIT's (or RELEASE's) result
        std::vector<detail::pq::result_ptr> results;
        std::exception_ptr lost;
        try {
            results = co_await detail::pq::run_each(connection->handle, *socket, text, broken);
            for (std::size_t i = 0; i <= closed_at; ++i) {
                if (i >= results.size()) detail::pq::throw_error(connection->handle, nullptr, broken);
                if (!detail::pq::succeeded(results[i].get()))
                    detail::pq::throw_error(connection->handle, results[i].get(), broken);
            }
        } catch (const connection_lost&) {
            lost = std::current_exception();
        }
        pending.clear();
        if (lost) {
            // COMMIT went out and no answer came back: it may have committed. A read-only
            // transaction had nothing to commit: what it read stands.
            if (engine && options.read_only) {
                broken = true;
                co_return;
            }
            if (!engine) std::rethrow_exception(lost);
            try {
                std::rethrow_exception(lost);
            } catch (const connection_lost& e) {
                throw commit_in_doubt(std::string("connection lost during COMMIT: ") + e.what(),
                                      e.sqlstate());
            }
        }
        if (!engine) co_return;
        // PostgreSQL answers COMMIT of a transaction an earlier error aborted with a quiet
        // ROLLBACK: that is a failure, never a success.
        if (std::string_view(PQcmdStatus(results[closed_at].get())) == "ROLLBACK") {
            throw database_error(
                "keel: the transaction was aborted by an earlier error and rolled back, not committed",
                "25P02");
        }
        // Committed. The position is a courtesy: if reading it failed, the request hands out none.
        if (results.size() > closed_at + 1 && detail::pq::succeeded(results[closed_at + 1].get()))
            detail::note_commit_position(*engine, &origin, results[closed_at + 1].get());
        if (PQstatus(connection->handle) != CONNECTION_OK) broken = true;
    }

    // Ends the transaction: commit (unless a unit left it to be rolled back) or roll back.
    task<void> end(bool commit) {
        if (!started) {  // nothing was sent: nothing to commit or undo
            release();
            co_return;
        }
        if (!commit || rollback_due) {
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
        if (!connection) co_return;
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
    void queue(std::string statement) { pending.push_back(std::move(statement)); }
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
    if (s.rollback_due) co_await s.end(false);
    if (!s.connection) co_await s.begin_transaction();
    std::string lost;
    try {
        co_return co_await s.send(sql, params);
    } catch (const connection_lost& e) {
        if (!s.may_move_to_primary()) throw;
        lost = e.what();
    }
    s.move_to_primary(lost);  // the replica went away under the read: the primary answers it
    co_await s.begin_transaction();
    co_return co_await s.send(sql, params);
}

task<void> async_session::commit() {
    if (!impl_) co_return;  // moved from: its transaction went with the move
    auto& s = impl::usable(impl_);
    if (!s.connection) co_return;
    co_await s.end(true);
}

task<void> async_session::rollback() {
    if (!impl_) co_return;
    co_await impl_->roll_back_now();
}

task<async_session::unit> async_session::begin() {
    auto& s = impl::usable(impl_);
    if (s.rollback_due) co_await s.end(false);
    if (!s.connection) {
        co_await s.begin_transaction();
        co_return unit(*this, {});
    }
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
        if (savepoint_.empty()) {
            state.rollback_due = true;
        } else if (!state.pending.empty() && state.pending.back() == "SAVEPOINT " + savepoint_) {
            state.pending.pop_back();  // never sent: nothing to undo
        } else {
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
