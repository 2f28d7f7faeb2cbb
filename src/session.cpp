#include <keel/database_error.hpp>
#include <keel/session.hpp>

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
    keel::engine* engine;
    session_options options;
    std::optional<engine::lease> lease;
    std::unique_ptr<pqxx::nontransaction> tx;
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
        lease.emplace(engine->checkout());
        broken = false;
        try {
            tx = std::make_unique<pqxx::nontransaction>(*lease->connection().connection);
        } catch (const std::exception&) {
            release();
            throw_database_error(broken);
        }
        try {
            control(begin_statement(options));
            if (options.statement_timeout.count() > 0) {
                control("SET LOCAL statement_timeout = " + std::to_string(options.statement_timeout.count()));
            }
        } catch (...) {
            release();
            throw;
        }
    }

    // Returns the connection to the pool (closed instead when it broke).
    void release() noexcept {
        tx.reset();
        if (lease) {
            if (broken) lease->mark_broken();
            lease.reset();
        }
        savepoints = 0;
    }

    void roll_back() noexcept {
        if (!tx) return;
        try {
            tx->exec("ROLLBACK");
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

session::session(session&&) noexcept = default;

session::~session() {
    if (impl_) impl_->roll_back();
}

bool session::in_transaction() const noexcept { return impl_ && impl_->tx != nullptr; }

keel::result session::run(std::string_view sql, std::vector<std::optional<std::string>> params) {
    auto& s = *impl_;
    s.require_open();
    if (!s.tx) s.begin_transaction();
    auto& pooled = s.lease->connection();
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
        s.control("COMMIT");
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
