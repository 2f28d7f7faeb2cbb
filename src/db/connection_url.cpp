#include "db/connection_url.hpp"

#include <string>

namespace keel::detail {

namespace {

// Whether the URL (key=value pairs, or a URI's query) sets parameter `key` itself.
bool sets(const std::string& url, const std::string& key) {
    for (auto at = url.find(key); at != std::string::npos; at = url.find(key, at + 1)) {
        const bool starts = at == 0 || url[at - 1] == ' ' || url[at - 1] == '?' || url[at - 1] == '&';
        auto next = at + key.size();
        while (next < url.size() && url[next] == ' ') ++next;
        if (starts && next < url.size() && url[next] == '=') return true;
    }
    return false;
}

// `url` with libpq parameter `key` set to `value`, unless the URL sets it itself.
std::string with_parameter(const std::string& url, const std::string& key, long long value) {
    if (sets(url, key)) return url;
    const auto setting = key + '=' + std::to_string(value);
    const bool uri = url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0;
    if (!uri) return url + (url.empty() ? "" : " ") + setting;
    return url + (url.find('?') == std::string::npos ? "?" : "&") + setting;
}

}  // namespace

// libpq waits for ever to connect unless told otherwise, and a connection whose server
// vanished behind a dead network looks open for hours: TCP keepalives notice it in seconds
// (keepalives_idle + keepalives_count x keepalives_interval), and tcp_user_timeout bounds how
// long data sent may go unacknowledged.
std::string connection_url(const std::string& url, const engine_options& o) {
    std::string out = url;
    if (o.connect_timeout.count() > 0)
        out = with_parameter(out, "connect_timeout", o.connect_timeout.count());
    if (o.keepalives_idle.count() > 0) {
        out = with_parameter(out, "keepalives", 1);
        out = with_parameter(out, "keepalives_idle", o.keepalives_idle.count());
        out = with_parameter(out, "keepalives_interval", o.keepalives_interval.count());
        out = with_parameter(out, "keepalives_count", o.keepalives_count);
    }
    if (o.tcp_user_timeout.count() > 0)
        out = with_parameter(out, "tcp_user_timeout", o.tcp_user_timeout.count());
    return out;
}

}  // namespace keel::detail
