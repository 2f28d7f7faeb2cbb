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

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <exception>
#include <stdexcept>

namespace keel {

namespace {

// PostgreSQL's text cannot hold a NUL, and libpq would cut the value at it: refuse instead of
// storing less than was asked.
// `parameter` is the 1-based $N, or 0 for the statement itself; the name is built only to throw.
void refuse_nul(std::string_view text, std::size_t parameter) {
    if (std::memchr(text.data(), 0, text.size()) == nullptr) return;
    const std::string what =
        parameter ? "statement parameter $" + std::to_string(parameter) : "the statement";
    throw database_error(
        "keel: " + what + " contains a NUL byte, which PostgreSQL text cannot store; nothing was sent",
        "22021");
}

using statement_params = std::vector<std::optional<std::string>>;

// `["42","ada",null]`: a slow statement's parameters for its log line, each cut at 256 bytes
// (marked, with its full size) so that a large value does not flood the log.
std::string parameters_text(const statement_params& params) {
    constexpr std::size_t shown = 256;
    std::string out = "[";
    for (std::size_t i = 0; i < params.size(); ++i) {
        if (i) out += ',';
        if (!params[i]) {
            out += "null";
        } else if (params[i]->size() <= shown) {
            detail::append_json_string(out, *params[i]);
        } else {
            detail::append_json_string(
                out, params[i]->substr(0, shown) + "... (" + std::to_string(params[i]->size()) + " bytes)");
        }
    }
    return out + ']';
}

// Times one statement, from sent to answered (or failed): into the engine's histogram, and
// onto a log line when it was slower than the engine's slow_statement_threshold.
class statement_timer {
public:
    statement_timer(detail::database_counters* counters, detail::slow_statement_rule rule,
                    const detail::session_origin& origin, std::string_view sql,
                    const statement_params& params) noexcept
        : counters_(counters),
          rule_(rule),
          origin_(origin),
          sql_(sql),
          params_(params),
          exceptions_(std::uncaught_exceptions()),
          sent_(counters || rule.threshold.count() > 0 ? std::chrono::steady_clock::now()
                                                       : std::chrono::steady_clock::time_point{}) {}
    ~statement_timer() {
        if (!counters_ && rule_.threshold.count() <= 0) return;
        const auto took = std::chrono::steady_clock::now() - sent_;
        const auto nanoseconds = std::chrono::duration_cast<std::chrono::nanoseconds>(took).count();
        if (counters_) {
            counters_->statement_duration.observe(detail::database_counters::statement_bounds,
                                                  static_cast<double>(nanoseconds) / 1e9,
                                                  static_cast<std::uint64_t>(nanoseconds));
        }
        if (rule_.threshold.count() > 0 && took >= rule_.threshold) report(took);
    }
    statement_timer(const statement_timer&) = delete;
    statement_timer& operator=(const statement_timer&) = delete;

private:
    void report(std::chrono::steady_clock::duration took) const noexcept {
        if (counters_) detail::database_counters::count(counters_->slow_statements);
        try {
            const bool failed = std::uncaught_exceptions() > exceptions_;
            const std::string shown = rule_.with_parameters ? parameters_text(params_) : std::string();
            std::vector<log_field> fields = {
                {"duration_ms", log_milliseconds(took)}, {"statement", sql_}, {"failed", failed}};
            if (rule_.with_parameters) fields.push_back({"parameters", shown});
            origin_.report(log_level::warning, "keel: slow statement", fields);
        } catch (...) {
            // A line that cannot be written must not turn the statement's outcome into another.
        }
    }

    detail::database_counters* counters_;
    detail::slow_statement_rule rule_;
    const detail::session_origin& origin_;
    std::string_view sql_;
    const statement_params& params_;
    int exceptions_;
    std::chrono::steady_clock::time_point sent_;
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
    bool started = false;                             // the opening statement took effect
    bool broken = false;
    bool closed = false;
    unsigned savepoints = 0;

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

    void begin_transaction() {
        broken = false;
        connection = &source->open(options, pending);
        if (options.statement_timeout.count() > 0) {
            pending.push_back("SET LOCAL statement_timeout = " +
                              std::to_string(options.statement_timeout.count()));
        }
    }

    void end_transaction() {
        if (!started) return;  // nothing was sent: nothing to commit
        flush_pending();
        source->commit(*connection, options, broken);
    }

    // Gives the connection back to the source (which closes a broken one).
    void release() noexcept {
        connection = nullptr;
        pending.clear();
        started = false;
        savepoints = 0;
        source->close(broken);
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

keel::result session::run(std::string_view sql, std::vector<std::optional<std::string>> params) {
    auto& s = impl::usable(impl_);
    detail::require_blocking_allowed("keel::session::exec");
    refuse_nul(sql, 0);
    for (std::size_t i = 0; i < params.size(); ++i) {
        if (params[i]) refuse_nul(*params[i], i + 1);
    }
    if (!s.connection) s.begin_transaction();
    auto& pooled = *s.connection;
    auto found = pooled.prepared.find(sql);
    if (found == pooled.prepared.end()) {
        // A statement that fails to parse inside a test's outer transaction would abort it:
        // there the savepoint goes first, so that the failure is the savepoint's alone.
        if (s.source->prepare_after_opening()) s.flush_pending();
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
    const statement_timer timed(s.source->counters(), s.source->slow_statements(), s.origin, sql, params);
    if (s.pending.empty()) {
        data->rows = detail::pq::exec_prepared(pooled.handle, found->second, bound, s.broken);
    } else {
        const auto preamble = std::move(s.pending);
        s.pending.clear();
        // On failure, s.started says whether there is a transaction to roll back.
        data->rows =
            detail::pq::exec_after(pooled.handle, preamble, found->second, bound, s.broken, s.started);
    }
    return keel::result(std::move(data));
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
