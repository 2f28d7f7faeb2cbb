#include <keel/database_error.hpp>
#include <keel/pool_timeout.hpp>
#include <keel/session.hpp>

#include "outer_transaction.hpp"
#include "pooled_connection.hpp"

#include <pqxx/pqxx>
#include <stdexcept>

namespace keel {

namespace detail {

struct result_data {
    pqxx::result rows;
};

std::size_t result_size(const result_data& r) noexcept { return r.rows.size(); }
std::size_t result_affected(const result_data& r) noexcept { return r.rows.affected_rows(); }

namespace {
std::optional<std::string_view> field_text(const pqxx::field& f) {
    if (f.is_null()) return std::nullopt;
    return std::string_view(f.c_str(), f.size());
}
}  // namespace

std::optional<std::string_view> result_field(const result_data& r, std::size_t row, std::string_view column) {
    const auto number = r.rows.column_number(std::string(column));  // throws argument_error when unknown
    return field_text(r.rows[static_cast<pqxx::result::size_type>(row)][number]);
}

std::optional<std::string_view> result_field(const result_data& r, std::size_t row, std::size_t column) {
    if (column >= r.rows.columns()) {
        throw std::out_of_range("keel: the result has " + std::to_string(r.rows.columns()) + " column(s), not #" +
                                std::to_string(column));
    }
    return field_text(r.rows[static_cast<pqxx::result::size_type>(row)][static_cast<pqxx::row::size_type>(column)]);
}

void throw_column_error(std::string_view column, std::string_view text, std::string_view why) {
    throw std::runtime_error("keel: column " + std::string(column) + " ('" + std::string(text.substr(0, 64)) +
                             "') does not map: " + std::string(why));
}

}  // namespace detail

namespace {

// Turns libpqxx's exception (the current one) into keel's, by SQLSTATE.
[[noreturn]] void throw_database_error(bool& connection_broken) {
    try {
        throw;
    } catch (const pqxx::broken_connection& e) {
        connection_broken = true;
        throw connection_lost(e.what(), "08006");
    } catch (const pqxx::sql_error& e) {
        const std::string state = e.sqlstate();
        const std::string message = e.what();
        if (state == "23505") throw unique_violation(message, state);
        if (state == "23503") throw foreign_key_violation(message, state);
        if (state == "23514") throw check_violation(message, state);
        if (state == "23502") throw not_null_violation(message, state);
        if (state == "40001") throw serialization_failure(message, state);
        if (state == "40P01") throw deadlock_detected(message, state);
        if (state.rfind("40", 0) == 0) throw transaction_conflict(message, state);
        if (state == "57014") throw query_canceled(message, state);
        if (state.rfind("08", 0) == 0 || state == "57P01" || state == "57P02" || state == "57P03") {
            connection_broken = true;
            throw connection_lost(message, state);
        }
        throw database_error(message, state);
    } catch (const pqxx::failure& e) {
        throw database_error(e.what(), "");
    }
}

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

struct session::impl {
    keel::engine* engine = nullptr;
    std::shared_ptr<detail::outer_transaction> outer;  // set: this session joins it
    session_options options;
    std::optional<engine::lease> lease;                 // own connection (not joined)
    std::unique_ptr<pqxx::nontransaction> own_tx;
    detail::pooled_connection* connection = nullptr;    // while a transaction is open
    pqxx::nontransaction* tx = nullptr;
    std::string joined_savepoint;                       // joined: the savepoint this session began with
    bool broken = false;
    bool closed = false;
    unsigned savepoints = 0;

    void require_open() const {
        if (closed) throw std::logic_error("keel: this session is closed");
    }

    // Runs a control statement (BEGIN, COMMIT, SAVEPOINT ...), translating errors.
    void control(const std::string& sql) {
        try {
            tx->exec(sql);
        } catch (const std::exception&) {
            throw_database_error(broken);
        }
    }

    void begin_transaction() {
        broken = false;
        if (outer) {
            joined_savepoint = outer->acquire();
            connection = &outer->lease.connection();
            tx = outer->tx.get();
        } else {
            lease.emplace(engine->checkout());
            try {
                own_tx = std::make_unique<pqxx::nontransaction>(*lease->connection().connection);
            } catch (const std::exception&) {
                release();
                throw_database_error(broken);
            }
            connection = &lease->connection();
            tx = own_tx.get();
        }
        try {
            control(outer ? "SAVEPOINT " + joined_savepoint : begin_statement(options));
            if (options.statement_timeout.count() > 0) {
                control("SET LOCAL statement_timeout = " + std::to_string(options.statement_timeout.count()));
            }
        } catch (...) {
            release();
            throw;
        }
    }

    void end_transaction() {
        if (!outer) {
            control("COMMIT");
            return;
        }
        // SET LOCAL outlives RELEASE SAVEPOINT: undo it, as a real COMMIT would.
        if (options.statement_timeout.count() > 0) control("SET LOCAL statement_timeout TO DEFAULT");
        control("RELEASE SAVEPOINT " + joined_savepoint);
    }

    // Returns the connection to the pool (closed instead when it broke), or to the outer
    // transaction.
    void release() noexcept {
        tx = nullptr;
        connection = nullptr;
        savepoints = 0;
        if (outer) {
            if (!joined_savepoint.empty()) {
                if (broken) outer->broken = true;
                joined_savepoint.clear();
                outer->release();
            }
            return;
        }
        own_tx.reset();
        if (lease) {
            if (broken) lease->mark_broken();
            lease.reset();
        }
    }

    void roll_back() noexcept {
        if (!tx) return;
        try {
            if (outer) {
                tx->exec("ROLLBACK TO SAVEPOINT " + joined_savepoint);
                tx->exec("RELEASE SAVEPOINT " + joined_savepoint);
            } else {
                tx->exec("ROLLBACK");
            }
        } catch (...) {
            broken = true;  // a connection that cannot roll back is not handed out again
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

bool session::in_transaction() const noexcept { return impl_ && impl_->tx != nullptr; }

keel::result session::run(std::string_view sql, std::vector<std::optional<std::string>> params) {
    auto& s = *impl_;
    s.require_open();
    if (!s.tx) s.begin_transaction();
    auto& pooled = *s.connection;
    std::string text(sql);
    try {
        auto found = pooled.prepared.find(text);
        if (found == pooled.prepared.end()) {
            const std::string name = "keel_" + std::to_string(pooled.prepared.size() + 1);
            pooled.connection->prepare(name, text);
            found = pooled.prepared.emplace(std::move(text), name).first;
        }
        std::vector<const char*> values;
        values.reserve(params.size());
        for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
        auto data = std::make_shared<detail::result_data>();
        data->rows = s.tx->exec_prepared(found->second, pqxx::prepare::make_dynamic_params(values));
        return keel::result(std::move(data));
    } catch (const std::exception&) {
        throw_database_error(s.broken);
    }
}

void session::commit() {
    auto& s = *impl_;
    s.require_open();
    if (!s.tx) return;
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
    if (!s.tx) {
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
    } else if (s->impl_->tx) {
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
    if (!s->impl_->tx) return;  // the whole transaction already ended
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
    try {
        tx = std::make_unique<pqxx::nontransaction>(*lease.connection().connection);
        tx->exec("BEGIN");
    } catch (const std::exception&) {
        tx.reset();
        throw_database_error(broken);
    }
}

outer_transaction::~outer_transaction() {
    try {
        if (tx) tx->exec("ROLLBACK");
    } catch (...) {
        broken = true;
    }
    tx.reset();
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
