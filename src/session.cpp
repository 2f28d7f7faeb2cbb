#include <keel/database_error.hpp>
#include <keel/pool_timeout.hpp>
#include <keel/session.hpp>

#include "outer_transaction.hpp"
#include "pooled_connection.hpp"
#include "pq.hpp"

#include <charconv>
#include <stdexcept>

namespace keel {

namespace detail {

struct result_data {
    pq::result_ptr rows;
};

std::size_t result_size(const result_data& r) noexcept { return static_cast<std::size_t>(PQntuples(r.rows.get())); }

std::size_t result_affected(const result_data& r) noexcept {
    const std::string_view text = PQcmdTuples(r.rows.get());
    std::size_t n = 0;
    std::from_chars(text.data(), text.data() + text.size(), n);
    return n;
}

namespace {
std::optional<std::string_view> field_text(const result_data& r, std::size_t row, int column) {
    const auto i = static_cast<int>(row);
    if (PQgetisnull(r.rows.get(), i, column)) return std::nullopt;
    return std::string_view(PQgetvalue(r.rows.get(), i, column), static_cast<std::size_t>(PQgetlength(r.rows.get(), i, column)));
}
}  // namespace

std::optional<std::string_view> result_field(const result_data& r, std::size_t row, std::string_view column) {
    const int number = PQfnumber(r.rows.get(), std::string(column).c_str());
    if (number < 0) throw std::out_of_range("keel: the result has no column '" + std::string(column) + "'");
    return field_text(r, row, number);
}

std::optional<std::string_view> result_field(const result_data& r, std::size_t row, std::size_t column) {
    const auto columns = static_cast<std::size_t>(PQnfields(r.rows.get()));
    if (column >= columns) {
        throw std::out_of_range("keel: the result has " + std::to_string(columns) + " column(s), not #" +
                                std::to_string(column));
    }
    return field_text(r, row, static_cast<int>(column));
}

void throw_column_error(std::string_view column, std::string_view text, std::string_view why) {
    throw std::runtime_error("keel: column " + std::string(column) + " ('" + std::string(text.substr(0, 64)) +
                             "') does not map: " + std::string(why));
}

}  // namespace detail

namespace {

std::string begin_statement(const session_options& o) {
    std::string sql = "BEGIN ISOLATION LEVEL ";
    switch (o.isolation) {
        case isolation::read_committed: sql += "READ COMMITTED"; break;
        case isolation::repeatable_read: sql += "REPEATABLE READ"; break;
        case isolation::serializable: sql += "SERIALIZABLE"; break;
    }
    if (o.read_only) sql += " READ ONLY";
    return sql;
}

}  // namespace

// A session's transaction begins lazily: begin_transaction() takes a connection and queues
// BEGIN (or, joined, a SAVEPOINT) in `pending`; the first statement sends it in the same round
// trip. A session that ends before any statement sent nothing at all.
struct session::impl {
    keel::engine* engine = nullptr;
    std::shared_ptr<detail::outer_transaction> outer;  // set: this session joins it
    session_options options;
    std::optional<engine::lease> lease;                 // own connection (not joined)
    detail::pooled_connection* connection = nullptr;    // while a transaction is open
    std::vector<std::string> pending;                   // to send before the next statement
    bool started = false;                               // BEGIN (or the SAVEPOINT) took effect
    std::string joined_savepoint;                       // joined: the savepoint this session began with
    bool broken = false;
    bool closed = false;
    unsigned savepoints = 0;

    void require_open() const {
        if (closed) throw std::logic_error("keel: this session is closed");
    }
    PGconn* handle() const noexcept { return connection->handle; }

    // Runs a control statement (COMMIT, SAVEPOINT ...) after anything pending.
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

    void begin_transaction() {
        broken = false;
        if (outer) {
            joined_savepoint = outer->acquire();
            connection = &outer->lease.connection();
            pending.push_back("SAVEPOINT " + joined_savepoint);
        } else {
            lease.emplace(options.pool_timeout.count() > 0 ? engine->checkout(options.pool_timeout) : engine->checkout());
            connection = &lease->connection();
            pending.push_back(begin_statement(options));
        }
        if (options.statement_timeout.count() > 0) {
            pending.push_back("SET LOCAL statement_timeout = " + std::to_string(options.statement_timeout.count()));
        }
    }

    void end_transaction() {
        if (!started) return;  // nothing was sent: nothing to commit
        if (!outer) {
            flush_pending();
            const auto done = detail::pq::exec(handle(), "COMMIT", broken);
            // PostgreSQL answers COMMIT of a transaction an earlier error aborted with a quiet
            // ROLLBACK: that is a failure, never a success.
            if (std::string_view(PQcmdStatus(done.get())) == "ROLLBACK") {
                throw database_error("keel: the transaction was aborted by an earlier error and rolled back, not committed",
                                     "25P02");
            }
            return;
        }
        // SET LOCAL outlives RELEASE SAVEPOINT: undo it, as a real COMMIT would.
        if (options.statement_timeout.count() > 0) control("SET LOCAL statement_timeout TO DEFAULT");
        control("RELEASE SAVEPOINT " + joined_savepoint);
    }

    // Returns the connection to the pool (closed instead when it broke), or to the outer
    // transaction.
    void release() noexcept {
        connection = nullptr;
        pending.clear();
        started = false;
        savepoints = 0;
        if (outer) {
            if (!joined_savepoint.empty()) {
                if (broken) outer->broken = true;
                joined_savepoint.clear();
                outer->release();
            }
            return;
        }
        if (lease) {
            if (broken) lease->mark_broken();
            lease.reset();
        }
    }

    void roll_back() noexcept {
        if (!connection) return;
        if (started) {  // else nothing was sent: nothing to undo
            try {
                if (outer) {
                    detail::pq::exec(handle(), "ROLLBACK TO SAVEPOINT " + joined_savepoint, broken);
                    detail::pq::exec(handle(), "RELEASE SAVEPOINT " + joined_savepoint, broken);
                } else {
                    detail::pq::exec(handle(), "ROLLBACK", broken);
                }
            } catch (...) {
                broken = true;  // a connection that cannot roll back is not handed out again
            }
        }
        release();
    }
};

session::session(keel::engine& e, session_options options) : impl_(std::make_unique<impl>()) {
    impl_->engine = &e;
    impl_->options = options;
}

session::session(std::shared_ptr<detail::outer_transaction> outer, session_options options)
    : impl_(std::make_unique<impl>()) {
    impl_->outer = std::move(outer);
    impl_->options = options;
}

session::session(session&&) noexcept = default;

session::~session() {
    if (impl_) impl_->roll_back();
}

bool session::in_transaction() const noexcept { return impl_ && impl_->connection != nullptr; }

keel::result session::run(std::string_view sql, std::vector<std::optional<std::string>> params) {
    auto& s = *impl_;
    s.require_open();
    if (!s.connection) s.begin_transaction();
    auto& pooled = *s.connection;
    auto found = pooled.prepared.find(sql);
    if (found == pooled.prepared.end()) {
        std::string text(sql);
        std::string name = "keel_" + std::to_string(pooled.prepared.size() + 1);
        detail::pq::prepare(pooled.handle, name, text, s.broken);
        found = pooled.prepared.emplace(std::move(text), std::move(name)).first;
    }
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
    const detail::pq::params bound{static_cast<int>(values.size()), values.data()};
    auto data = std::make_shared<detail::result_data>();
    if (s.pending.empty()) {
        data->rows = detail::pq::exec_prepared(pooled.handle, found->second, bound, s.broken);
    } else {
        const auto preamble = std::move(s.pending);
        s.pending.clear();
        // On failure, s.started says whether there is a transaction to roll back.
        data->rows = detail::pq::exec_after(pooled.handle, preamble, found->second, bound, s.broken, s.started);
    }
    return keel::result(std::move(data));
}

void session::commit() {
    auto& s = *impl_;
    s.require_open();
    if (!s.connection) return;
    try {
        s.end_transaction();
    } catch (const connection_lost& e) {
        s.release();
        throw commit_in_doubt(std::string("connection lost during COMMIT: ") + e.what(), e.sqlstate());
    } catch (...) {
        s.roll_back();
        throw;
    }
    s.release();
}

void session::rollback() noexcept { impl_->roll_back(); }

void session::close() noexcept {
    impl_->roll_back();
    impl_->closed = true;
}

session::unit session::begin() {
    auto& s = *impl_;
    s.require_open();
    if (!s.connection) {
        s.begin_transaction();
        return unit(*this, {});
    }
    std::string name = "keel_sp_" + std::to_string(++s.savepoints);
    s.control("SAVEPOINT " + name);
    return unit(*this, std::move(name));
}

session::unit::unit(session& s, std::string savepoint) noexcept : session_(&s), savepoint_(std::move(savepoint)) {}

session::unit::unit(unit&& other) noexcept
    : session_(std::exchange(other.session_, nullptr)), savepoint_(std::move(other.savepoint_)) {}

session::unit::~unit() { rollback(); }

void session::unit::commit() {
    if (!session_) throw std::logic_error("keel: this unit of work is already finished");
    auto* s = std::exchange(session_, nullptr);
    if (savepoint_.empty()) {
        s->commit();
    } else if (s->impl_->connection) {
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
    if (!s->impl_->connection) return;  // the whole transaction already ended
    try {
        s->impl_->control("ROLLBACK TO SAVEPOINT " + savepoint_);
        s->impl_->control("RELEASE SAVEPOINT " + savepoint_);
    } catch (...) {
        s->impl_->roll_back();  // the transaction cannot be trusted any more
    }
}

}  // namespace keel

namespace keel::detail {

outer_transaction::outer_transaction(engine& e) : lease(e.checkout()), wait(e.options().pool_timeout) {
    pq::exec(lease.connection().handle, "BEGIN", broken);
}

outer_transaction::~outer_transaction() {
    try {
        if (!broken) pq::exec(lease.connection().handle, "ROLLBACK", broken);
    } catch (...) {
        broken = true;
    }
    if (broken) lease.mark_broken();
}

std::string outer_transaction::acquire() {
    std::unique_lock lock(mutex_);
    if (holder_ == std::this_thread::get_id()) {
        throw std::logic_error(
            "keel: a second session began on this thread while another is still in its transaction; "
            "sessions of an isolated test database share one connection, so they must take turns. "
            "A test that needs concurrent sessions uses a fresh database per test (keel::testing::database_template).");
    }
    if (!free_.wait_for(lock, wait, [&] { return !holder_; })) {
        throw pool_timeout(wait, "the isolated test database's connection stayed in use");
    }
    holder_ = std::this_thread::get_id();
    return "keel_session_" + std::to_string(++sessions_);
}

void outer_transaction::release() noexcept {
    {
        std::lock_guard lock(mutex_);
        holder_.reset();
    }
    free_.notify_one();
}

}  // namespace keel::detail
