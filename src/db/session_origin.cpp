#include "db/session_origin.hpp"

#include "db/read_position.hpp"

#include <keel/request.hpp>

#include <vector>

namespace keel::detail {

namespace {

thread_local const request* working_request = nullptr;
thread_local const logger* working_logger = nullptr;

// Where sessions opened outside any app log: the same default as an app's logger.
const logger& keel_logger() {
    static const logger fallback;
    return fallback;
}

}  // namespace

working_for::working_for(const request* req, const logger& log) noexcept
    : outer_request_(working_request), outer_logger_(working_logger) {
    working_request = req;
    working_logger = &log;
}

working_for::~working_for() {
    working_request = outer_request_;
    working_logger = outer_logger_;
}

const request* working_for::current_request() noexcept {
    return working_request;
}

const logger& working_for::current_logger() noexcept {
    return working_logger ? *working_logger : keel_logger();
}

session_origin session_origin::here(call_site where) {
    session_origin o;
    if (const auto* req = working_for::current_request()) {
        o.request_id = req->id();
        o.trace_id = req->trace().trace_id();
        o.method = req->method_name();
        o.route = req->route();
        o.deadline = req->deadline();
        o.hangup = req->hangup();
        o.position = read_position::of(*req);
    }
    o.where = where;
    o.log = &working_for::current_logger();
    return o;
}

std::string session_origin::opened_at() const {
    if (where.line == 0) return "keel::engine::checkout";  // a lease taken without a session
    std::string_view file = where.file;
    if (const auto slash = file.rfind('/'); slash != std::string_view::npos) file.remove_prefix(slash + 1);
    std::string out(file);
    out += ':';
    out += std::to_string(where.line);
    if (*where.function != '\0') {
        out += " (";
        out += where.function;
        out += ')';
    }
    return out;
}

void session_origin::report(log_level level, std::string_view message, std::span<const log_field> own) const {
    if (!log->enabled(level)) return;
    const std::string at = opened_at();
    std::vector<log_field> context;
    context.reserve(5);
    if (!request_id.empty()) {
        context.push_back({"request_id", request_id});
        context.push_back({"trace_id", trace_id});
        context.push_back({"method", method});
        if (!route.empty()) context.push_back({"route", route});
    }
    context.push_back({"opened_at", at});
    log->write(level, message, context, own);
}

}  // namespace keel::detail
