#include <keel/server_options.hpp>

#include <charconv>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

namespace keel {

namespace {

template <class N>
N parse_number(std::string_view what, std::string_view text, N min, N max) {
    long long value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || value < static_cast<long long>(min) ||
        value > static_cast<long long>(max)) {
        throw std::invalid_argument("keel: " + std::string(what) + " must be a number from " + std::to_string(min) +
                                    " to " + std::to_string(max) + ", got '" + std::string(text) + "'");
    }
    return static_cast<N>(value);
}

bool parse_flag(std::string_view what, std::string_view text) {
    if (text == "1" || text == "true" || text == "on" || text == "yes") return true;
    if (text == "0" || text == "false" || text == "off" || text == "no") return false;
    throw std::invalid_argument("keel: " + std::string(what) + " must be 0 or 1, got '" + std::string(text) + "'");
}

}  // namespace

std::optional<bool> server_options::flag_takes_value(std::string_view flag) noexcept {
    // Kept in step with the parsing below.
    for (const std::string_view with_value : {"--host", "--port", "--io-threads", "--worker-concurrency", "--worker-threads"}) {
        if (flag == with_value) return true;
    }
    if (flag == "--no-access-log") return false;
    return std::nullopt;
}

server_options server_options::from_environment(int argc, const char* const* argv) {
    server_options o;
    if (const char* v = std::getenv("HOST"); v && *v) o.host = v;
    if (const char* v = std::getenv("PORT"); v && *v) o.port = parse_number<unsigned short>("PORT", v, 0, 65535);
    if (const char* v = std::getenv("KEEL_IO_THREADS"); v && *v) {
        o.io_threads = parse_number<unsigned>("KEEL_IO_THREADS", v, 0, 1024);
    }
    if (const char* v = std::getenv("KEEL_WORKER_CONCURRENCY"); v && *v) {
        o.worker_concurrency = parse_number<unsigned>("KEEL_WORKER_CONCURRENCY", v, 0, 4096);
    }
    if (const char* v = std::getenv("KEEL_WORKER_THREADS"); v && *v) {
        o.worker_threads = parse_number<unsigned>("KEEL_WORKER_THREADS", v, 0, 4096);
    }
    if (const char* v = std::getenv("KEEL_ACCESS_LOG"); v && *v) o.access_log = parse_flag("KEEL_ACCESS_LOG", v);

    for (int i = 1; i < argc && argv; ++i) {
        std::string_view arg = argv[i];
        if (arg.substr(0, 2) != "--") continue;
        std::string_view name = arg.substr(2);
        std::string_view value;
        bool has_value = false;
        if (const auto eq = name.find('='); eq != std::string_view::npos) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
            has_value = true;
        }
        const auto take_value = [&]() -> std::string_view {
            if (has_value) return value;
            if (i + 1 >= argc) throw std::invalid_argument("keel: --" + std::string(name) + " needs a value");
            return argv[++i];
        };
        if (name == "host") {
            o.host = std::string(take_value());
        } else if (name == "port") {
            o.port = parse_number<unsigned short>("--port", take_value(), 0, 65535);
        } else if (name == "io-threads") {
            o.io_threads = parse_number<unsigned>("--io-threads", take_value(), 0, 1024);
        } else if (name == "worker-concurrency") {
            o.worker_concurrency = parse_number<unsigned>("--worker-concurrency", take_value(), 0, 4096);
        } else if (name == "worker-threads") {
            o.worker_threads = parse_number<unsigned>("--worker-threads", take_value(), 0, 4096);
        } else if (name == "no-access-log") {
            o.access_log = false;
        }
    }
    return o;
}

}  // namespace keel
