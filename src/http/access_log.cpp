#include <keel/access_log.hpp>

#include "http/access_line.hpp"

#include <chrono>
#include <cstdio>
#include <string>

namespace keel {

namespace detail {

std::string access_line(const request& req, unsigned status, std::size_t body_bytes,
                        std::chrono::nanoseconds took) {
    char timing[32];
    std::snprintf(timing, sizeof timing, "%.3fms", static_cast<double>(took.count()) / 1e6);
    std::string line;
    line.reserve(160 + req.target().size());
    line += req.remote_address().empty() ? std::string_view("-") : req.remote_address();
    line += " \"";
    line += req.method_name();
    line += ' ';
    line += req.target();
    line += req.version() == 10 ? " HTTP/1.0\" " : " HTTP/1.1\" ";
    line += std::to_string(status);
    line += ' ';
    line += std::to_string(body_bytes);
    line += "B ";
    line += timing;
    line += ' ';
    line += req.id();
    line += " trace=";
    line += req.trace().trace_id();
    line += " span=";
    line += req.trace().span_id();
    return line;
}

}  // namespace detail

middleware access_log(const logger& log) {
    return [&log](request& req, next next) -> task<response> {
        const auto start = std::chrono::steady_clock::now();
        response res = co_await next(req);
        if (log.enabled(log_level::info)) {
            log.info(detail::access_line(req, to_int(res.status()), res.body().size(),
                                         std::chrono::steady_clock::now() - start));
        }
        co_return res;
    };
}

}  // namespace keel
