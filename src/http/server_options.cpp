#include <keel/command_line.hpp>
#include <keel/server_options.hpp>
#include <keel/setting.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>

namespace keel {

namespace {
// The environment variable, then the flag (the command line wins).
template <class N, class Apply>
void read_number(command_line& args, const char* variable, std::string_view flag, N max, Apply apply) {
    if (const char* v = std::getenv(variable); v && *v) apply(parse_setting<N>(variable, v, 0, max));
    if (const auto v = args.value(flag)) apply(parse_setting<N>(flag, *v, 0, max));
}

// The environment variable, then the flag; `parse` gives nullopt for a bad name.
template <class T, class Parse>
std::optional<T> read_name(command_line& args, const char* variable, std::string_view flag, Parse parse,
                           std::string_view expected) {
    std::optional<T> out;
    auto take = [&](std::string_view source, std::string_view text) {
        out = parse(text);
        if (!out) {
            throw std::invalid_argument("keel: " + std::string(source) + " must be one of " +
                                        std::string(expected) + ", got '" + std::string(text) + "'");
        }
    };
    if (const char* v = std::getenv(variable); v && *v) take(variable, v);
    if (const auto v = args.value(flag)) take(flag, *v);
    return out;
}

std::optional<server_options::forwarded_header> parse_forwarded_header(std::string_view name) {
    if (name == "x-forwarded-for") return server_options::forwarded_header::x_forwarded_for;
    if (name == "forwarded") return server_options::forwarded_header::forwarded;
    return std::nullopt;
}

std::optional<log_format> parse_log_format(std::string_view name) {
    if (name == "text") return log_format::text;
    if (name == "json") return log_format::json;
    return std::nullopt;
}
}  // namespace

server_options server_options::from_environment(int argc, const char* const* argv) {
    command_line args(argc, argv);
    return from_environment(args);
}

server_options server_options::from_environment(command_line& args) {
    using forwarded_header = server_options::forwarded_header;
    server_options o;
    if (const char* v = std::getenv("HOST"); v && *v) o.host = v;
    if (auto v = args.value("--host")) o.host = std::move(*v);
    read_number<unsigned short>(args, "PORT", "--port", 65535, [&](auto n) { o.port = n; });
    read_number<unsigned short>(args, "KEEL_METRICS_PORT", "--metrics-port", 65535,
                                [&](auto n) { o.metrics_port = n; });
    read_number<std::uint32_t>(args, "KEEL_REQUEST_TIMEOUT_MS", "--request-timeout-ms", 86'400'000,
                               [&](auto n) { o.request_timeout = std::chrono::milliseconds(n); });
    read_number<std::uint32_t>(args, "KEEL_SHUTDOWN_DELAY_MS", "--shutdown-delay-ms", 3'600'000,
                               [&](auto n) { o.shutdown_delay = std::chrono::milliseconds(n); });
    read_number<unsigned>(args, "KEEL_IO_THREADS", "--io-threads", 1024, [&](auto n) { o.io_threads = n; });
    read_number<unsigned>(args, "KEEL_WORKER_CONCURRENCY", "--worker-concurrency", 4096,
                          [&](auto n) { o.worker_concurrency = n; });
    read_number<unsigned>(args, "KEEL_WORKER_THREADS", "--worker-threads", 4096,
                          [&](auto n) { o.worker_threads = n; });
    const auto addresses = [&](std::string_view list) {
        o.forwarded_allow_ips.clear();
        while (!list.empty()) {
            const auto comma = std::min(list.find(','), list.size());
            auto item = list.substr(0, comma);
            list.remove_prefix(std::min(comma + 1, list.size()));
            while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
            while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
            if (!item.empty()) o.forwarded_allow_ips.emplace_back(item);
        }
    };
    if (const char* v = std::getenv("FORWARDED_ALLOW_IPS"); v && *v) addresses(v);
    if (const auto from = read_name<forwarded_header>(args, "KEEL_FORWARDED_HEADER", "--forwarded-header",
                                                      parse_forwarded_header, "x-forwarded-for, forwarded"))
        o.forwarded_from = *from;
    if (const char* v = std::getenv("KEEL_TLS_CERT_FILE"); v && *v) o.tls_certificate_file = v;
    if (auto v = args.value("--tls-cert-file")) o.tls_certificate_file = std::move(*v);
    if (const char* v = std::getenv("KEEL_TLS_KEY_FILE"); v && *v) o.tls_key_file = v;
    if (auto v = args.value("--tls-key-file")) o.tls_key_file = std::move(*v);
    read_number<unsigned short>(args, "KEEL_TLS_PORT", "--tls-port", 65535, [&](auto n) { o.tls_port = n; });
    if (const auto v = args.value("--forwarded-allow-ips")) addresses(*v);
    if (const char* v = std::getenv("KEEL_ACCESS_LOG"); v && *v)
        o.access_log = parse_setting_flag("KEEL_ACCESS_LOG", v);
    if (args.has("--no-access-log")) o.access_log = false;
    o.log_format =
        read_name<keel::log_format>(args, "KEEL_LOG_FORMAT", "--log-format", parse_log_format, "text, json");
    o.log_level = read_name<keel::log_level>(args, "KEEL_LOG_LEVEL", "--log-level", parse_log_level,
                                             "debug, info, warning, error, off");
    return o;
}

}  // namespace keel
