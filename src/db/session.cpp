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

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <exception>
#include <stdexcept>

namespace keel {

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
    bool started = false;                             // the opening statement took effect
    bool broken = false;
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

    // Runs a control statement (SAVEPOINT ...) after anything pending.
    void control(const std::string& sql) {
        flush_pending();
        detail::pq::exec(handle(), sql, broken);
    }
    void flush_pending() {
        while (!pending.empty()) {
            const auto statement = std::move(pending.front());
            pending.erase(pending.begin());
            detail::pq::exec(handle(), statement, broken);
            started = true;
        }
    }

    // The name `sql` is prepared under on the connection, preparing it first (and deallocating
    // the least recently used statement when the connection's cache is full).
    const std::string* prepared_name(std::string_view sql) {
        auto& cache = connection->statements;
        if (const auto* name = cache.find(sql)) return name;
        // A statement that fails to parse inside a test's outer transaction would abort it:
        // there the savepoint goes first, so that the failure is the savepoint's alone.
        if (source->prepare_after_opening()) flush_pending();
        if (const auto* victim = cache.victim()) {
            detail::pq::exec(handle(), "DEALLOCATE " + *victim, broken);
            cache.drop_victim();
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

    void end_transaction() {
        if (!started) return;  // nothing was sent: nothing to commit
        flush_pending();
        // What the transaction was begun with: a joined one undoes its SET LOCAL statement_timeout,
        // which the request's deadline may have sent without the session's option.
        auto begun = options;
        begun.statement_timeout = budget.statement_timeout;
        source->commit(*connection, begun, broken);
    }

    // One statement, beginning the transaction first when none is open.
    keel::result execute(std::string_view sql, const std::vector<std::optional<std::string>>& params) {
        if (!connection) begin_transaction();
        bound_by_deadline();
        auto& pooled = *connection;
        std::vector<const char*> values;
        values.reserve(params.size());
        for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
        detail::pq::statement_call call{nullptr, nullptr, {static_cast<int>(values.size()), values.data()}};
        std::string unnamed;  // the text of a statement sent unnamed (libpq wants it NUL-terminated)
        if (pooled.statements.enabled()) {
            call.name = prepared_name(sql)->c_str();
        } else {
            unnamed = sql;
            call.sql = unnamed.c_str();
        }
        auto data = std::make_shared<detail::result_data>();
        const detail::statement_timer timed(source->counters(), source->slow_statements(), origin, sql,
                                            params);
        try {
            const detail::cancel_on_hangup watched(origin, pooled);
            if (pending.empty()) {
                data->rows = detail::pq::exec_statement(pooled.handle, call, broken);
            } else {
                const auto preamble = std::move(pending);
                pending.clear();
                // On failure, started says whether there is a transaction to roll back.
                bool begun = false;  // (the preamble may open the transaction, or only lower a timeout)
                try {
                    data->rows = detail::pq::exec_after(pooled.handle, preamble, call, broken, begun);
                } catch (...) {
                    started = started || begun;
                    throw;
                }
                started = started || begun;
            }
        } catch (...) {
            detail::rethrow_statement_failure(std::current_exception(), origin, budget.from_deadline);
        }
        ++statements;
        return keel::result(std::move(data));
    }

    // Gives the connection back to the source (which closes a broken one).
    void release() noexcept {
        connection = nullptr;
        pending.clear();
        started = false;
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

    void roll_back() noexcept {
        if (!connection) return;
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

keel::result session::run(std::string_view sql, const std::vector<std::optional<std::string>>& params) {
    auto& s = impl::usable(impl_);
    detail::require_blocking_allowed("keel::session::exec");
    detail::refuse_nul_bytes(sql, params);
    try {
        return s.execute(sql, params);
    } catch (const connection_lost& e) {
        if (!s.may_move_to_primary()) throw;
        s.move_to_primary(e.what());  // the replica went away under the read: the primary answers it
    }
    return s.execute(sql, params);
}

void session::commit() {
    if (!impl_) return;  // moved from: its transaction went with the move
    auto& s = impl::usable(impl_);
    if (!s.connection) return;
    detail::require_blocking_allowed("keel::session::commit");
    auto* counters = s.source->counters();
    const bool sent = s.started;
    try {
        s.end_transaction();
    } catch (const commit_in_doubt&) {
        if (counters) detail::database_counters::count(counters->in_doubt);
        s.release();  // the connection is broken: nothing to roll back
        throw;
    } catch (...) {
        s.roll_back();
        throw;
    }
    if (counters && sent) detail::database_counters::count(counters->committed);
    s.release();
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
    if (!s.connection) {
        s.begin_transaction();
        return unit(*this, {});
    }
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
    try {
        s->impl_->control("ROLLBACK TO SAVEPOINT " + savepoint_);
        s->impl_->control("RELEASE SAVEPOINT " + savepoint_);
    } catch (...) {
        s->impl_->roll_back();  // the transaction cannot be trusted any more
    }
}

}  // namespace keel
