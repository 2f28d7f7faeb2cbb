#include <keel/access_log.hpp>

#include <chrono>
#include <cstdio>
#include <string>

namespace keel {

middleware access_log(const logger& log) {
    return [&log](request& req, next next) -> task<response> {
        const auto start = std::chrono::steady_clock::now();
        response res = co_await next(req);
        if (log.enabled(log_level::info)) {
            const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                                    std::chrono::steady_clock::now() - start)
                                    .count();
            char timing[32];
            std::snprintf(timing, sizeof timing, "%.3fms", static_cast<double>(micros) / 1000.0);
            std::string line;
            line.reserve(96 + req.target().size());
            line += req.remote_address().empty() ? std::string_view("-") : req.remote_address();
            line += " \"";
            line += req.method_name();
            line += ' ';
            line += req.target();
            line += req.version() == 10 ? " HTTP/1.0\" " : " HTTP/1.1\" ";
            line += std::to_string(to_int(res.status()));
            line += ' ';
            line += std::to_string(res.body().size());
            line += "B ";
            line += timing;
            line += ' ';
            line += req.id();
            log.info(line);
        }
        co_return res;
    };
}

}  // namespace keel
