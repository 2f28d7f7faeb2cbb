#include <keel/access_log.hpp>
#include <keel/request_logger.hpp>

#include "http/access_line.hpp"

#include <chrono>
#include <string>

namespace keel {

namespace detail {

void log_access(const logger& log, const request& req, unsigned status, std::size_t body_bytes,
                std::chrono::nanoseconds took) {
    if (!log.enabled(log_level::info)) return;
    std::string message;
    message.reserve(32 + req.target().size());
    message += '"';
    message += req.method_name();
    message += ' ';
    message += req.target();
    message += req.version() == 10 ? " HTTP/1.0\" " : " HTTP/1.1\" ";
    message += std::to_string(status);
    const log_field fields[] = {
        {"status", status},
        {"duration_ms", log_milliseconds(took)},
        {"bytes", body_bytes},
        {"remote", req.remote_address().empty() ? std::string_view("-") : req.remote_address()}};
    const auto context = request_logger::context_of(req);
    log.write(log_level::info, message, context.view(), fields);
}

}  // namespace detail

middleware access_log(const logger& log) {
    return [&log](request& req, next next) -> task<response> {
        const auto start = std::chrono::steady_clock::now();
        response res = co_await next(req);
        detail::log_access(log, req, to_int(res.status()), res.body().size(),
                           std::chrono::steady_clock::now() - start);
        co_return res;
    };
}

}  // namespace keel
