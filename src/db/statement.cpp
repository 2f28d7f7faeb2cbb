#include "db/statement.hpp"

#include <keel/database_error.hpp>
#include <keel/logger.hpp>
#include <keel/model.hpp>  // detail::append_json_string

#include "io/hangup_signal.hpp"

#include <libpq-fe.h>
#include <cstring>
#include <exception>

namespace keel::detail {

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
            append_json_string(out, *params[i]);
        } else {
            append_json_string(
                out, params[i]->substr(0, shown) + "... (" + std::to_string(params[i]->size()) + " bytes)");
        }
    }
    return out + ']';
}

}  // namespace

namespace {

void cancel_statement(void* target) noexcept {
    char error[256];
    PQcancel(static_cast<PGcancel*>(target), error, sizeof error);  // best effort: nothing to tell anyone
}

[[noreturn]] void throw_hung_up() {
    throw client_hung_up(
        "keel: the client hung up; its statement was cancelled and the transaction rolled back", "57014");
}

}  // namespace

cancel_on_hangup::cancel_on_hangup(const session_origin& origin, pooled_connection& c)
    : signal_(c.cancel ? origin.hangup.get() : nullptr) {
    if (signal_ && !signal_->arm(&cancel_statement, c.cancel)) {  // (shares the PGcancel)
        signal_ = nullptr;
        throw_hung_up();
    }
}

cancel_on_hangup::~cancel_on_hangup() {
    if (signal_) signal_->disarm();
}

void throw_if_hung_up(const session_origin& origin) {
    if (origin.hangup && origin.hangup->hung_up()) throw_hung_up();
}

void rethrow_statement_failure(const std::exception_ptr& failure, const session_origin& origin,
                               bool timeout_from_deadline) {
    try {
        std::rethrow_exception(failure);
    } catch (const client_hung_up&) {
        throw;
    } catch (const deadline_exceeded&) {
        throw;
    } catch (const query_canceled& e) {
        throw_if_hung_up(origin);
        if (!timeout_from_deadline) throw;
        throw deadline_exceeded(std::string("keel: the request's deadline ran out: ") + e.what(),
                                e.sqlstate());
    }
}

void refuse_units_in_autocommit(const session_options& options) {
    if (options.autocommit) {
        throw std::logic_error(
            "keel: an autocommit session commits each statement on its own: it has no transaction for a unit "
            "of "
            "work (begin(), transaction()); open a session without autocommit");
    }
}

void refuse_nul_bytes(std::string_view sql, const statement_params& params) {
    refuse_nul(sql, 0);
    for (std::size_t i = 0; i < params.size(); ++i) {
        if (params[i]) refuse_nul(*params[i], i + 1);
    }
}

statement_timer::statement_timer(database_counters* counters, slow_statement_rule rule,
                                 const session_origin& origin, std::string_view sql,
                                 const statement_params& params) noexcept
    : counters_(counters),
      rule_(rule),
      origin_(origin),
      sql_(sql),
      params_(params),
      exceptions_(std::uncaught_exceptions()),
      sent_(counters || rule.threshold.count() > 0 ? std::chrono::steady_clock::now()
                                                   : std::chrono::steady_clock::time_point{}) {}

statement_timer::~statement_timer() {
    if (!counters_ && rule_.threshold.count() <= 0) return;
    const auto took = std::chrono::steady_clock::now() - sent_;
    const auto nanoseconds = std::chrono::duration_cast<std::chrono::nanoseconds>(took).count();
    if (counters_) {
        counters_->statement_duration.observe(database_counters::statement_bounds,
                                              static_cast<double>(nanoseconds) / 1e9,
                                              static_cast<std::uint64_t>(nanoseconds));
    }
    if (rule_.threshold.count() > 0 && took >= rule_.threshold) report(took);
}

void statement_timer::report(std::chrono::steady_clock::duration took) const noexcept {
    if (counters_) database_counters::count(counters_->slow_statements);
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

}  // namespace keel::detail
