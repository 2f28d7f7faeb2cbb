#pragma once

#include <keel/logger.hpp>

#include <array>
#include <cstddef>

namespace keel {

class request;

/// The app's logger, bound to one request: every line it writes carries the request's
/// `request_id`, `trace_id`, `span_id`, `method` and (once routed) `route`, as keel's own lines
/// about the request do. A handler or a provider asks for one by value:
/// ```
/// app.post("/transfers", [](keel::body<transfer> t, keel::request_logger log) {
///     log.info("transfer", {{"from", t->from}, {"amount", t->amount}});
///     ...
/// });
/// ```
/// Cheap to copy; valid while the request is (do not keep it for background work).
class request_logger {
public:
    request_logger(const logger& log, const request& req) noexcept : log_(&log), req_(&req) {}

    bool enabled(log_level l) const noexcept { return log_->enabled(l); }
    void log(log_level l, std::string_view message, logger::fields f = {}) const;
    void debug(std::string_view message, logger::fields f = {}) const { log(log_level::debug, message, f); }
    void info(std::string_view message, logger::fields f = {}) const { log(log_level::info, message, f); }
    void warning(std::string_view message, logger::fields f = {}) const {
        log(log_level::warning, message, f);
    }
    void error(std::string_view message, logger::fields f = {}) const { log(log_level::error, message, f); }

    /// The request's fields, as every line of this logger starts with them.
    struct context_fields {
        std::array<log_field, 5> fields;
        std::size_t size;
        std::span<const log_field> view() const noexcept { return {fields.data(), size}; }
    };
    static context_fields context_of(const request& req) noexcept;

private:
    const logger* log_;
    const request* req_;
};

}  // namespace keel
