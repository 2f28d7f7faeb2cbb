#include <keel/access_log.hpp>
#include <keel/request_logger.hpp>

#include "http/access_line.hpp"
#include "http/url.hpp"

#include <algorithm>
#include <chrono>
#include <string>

namespace keel {

namespace detail {

namespace {

// Query parameters that carry credentials by custom (OAuth 2's access_token, API keys): their
// values never reach the log.
bool names_a_secret(std::string_view raw_name) {
    // As the app reads it: percent-decoded ("api%5Fkey" is api_key), '+' a space.
    std::string decoded;
    std::string_view name = raw_name;
    if (raw_name.find_first_of("%+") != std::string_view::npos) {
        decoded = detail::percent_decode(raw_name, true).value_or(std::string(raw_name));
        name = decoded;
    }
    for (const std::string_view secret : {"access_token", "api_key", "apikey", "api-key", "key", "token",
                                          "password", "secret", "signature"}) {
        if (iequals(name, secret)) return true;
    }
    return false;
}

}  // namespace

void append_redacted_target(std::string& out, std::string_view target) {
    const auto question = target.find('?');
    out += target.substr(0, question);
    if (question == std::string_view::npos) return;
    auto query = target.substr(question + 1);
    out += '?';
    while (true) {
        const auto end = std::min(query.find('&'), query.size());
        const auto pair = query.substr(0, end);
        const auto equals = pair.find('=');
        if (equals != std::string_view::npos && names_a_secret(pair.substr(0, equals))) {
            out += pair.substr(0, equals);
            out += "=REDACTED";
        } else {
            out += pair;
        }
        if (end == query.size()) break;
        out += '&';
        query.remove_prefix(end + 1);
    }
}

void log_access(const logger& log, const request& req, unsigned status, std::size_t body_bytes,
                std::chrono::nanoseconds took) {
    if (!log.enabled(log_level::info)) return;
    std::string message;
    message.reserve(32 + req.target().size());
    message += '"';
    message += req.method_name();
    message += ' ';
    append_redacted_target(message, req.target());
    message += req.version() == 10 ? " HTTP/1.0\" " : " HTTP/1.1\" ";
    message += std::to_string(status);
    const auto remote = req.remote_address().empty() ? std::string_view("-") : req.remote_address();
    // Behind a trusted proxy: the client it names, and the proxy itself.
    const log_field fields[] = {{"status", status},
                                {"duration_ms", log_milliseconds(took)},
                                {"bytes", body_bytes},
                                {"remote", req.forwarded() ? req.client_address() : remote},
                                {"proxy", remote}};
    const auto context = request_logger::context_of(req);
    log.write(log_level::info, message, context.view(),
              std::span<const log_field>(fields, req.forwarded() ? 5 : 4));
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
