#include "http/wire.hpp"

#include <keel/header_map.hpp>

#include <charconv>
#include <ctime>
#include <nlohmann/json.hpp>

namespace keel::detail {

namespace {

bool is_token_char(unsigned char c) {
    if (c >= 'a' && c <= 'z') return true;
    if (c >= 'A' && c <= 'Z') return true;
    if (c >= '0' && c <= '9') return true;
    switch (c) {
        case '!':
        case '#':
        case '$':
        case '%':
        case '&':
        case '\'':
        case '*':
        case '+':
        case '-':
        case '.':
        case '^':
        case '_':
        case '`':
        case '|':
        case '~':
            return true;
        default:
            return false;
    }
}

bool safe_name(std::string_view name) {
    if (name.empty()) return false;
    for (unsigned char c : name) {
        if (!is_token_char(c)) return false;
    }
    return true;
}

bool safe_value(std::string_view value) {
    for (unsigned char c : value) {
        if (c == '\r' || c == '\n' || c == '\0') return false;  // would split the header: response splitting
    }
    return true;
}

// Fields the server owns: the app cannot change the message's framing.
bool server_owned(std::string_view name) {
    return iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding") ||
           iequals(name, "Connection");
}

void append_number(std::string& out, std::size_t n) {
    char digits[24];
    const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
    out.append(digits, end);
}

}  // namespace

std::string_view http_date() {
    thread_local std::time_t cached_second = 0;
    thread_local char text[40] = {};
    thread_local std::size_t length = 0;
    const std::time_t now = std::time(nullptr);
    if (now != cached_second) {
        std::tm utc{};
        gmtime_r(&now, &utc);
        length = std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &utc);
        cached_second = now;
    }
    return {text, length};
}

bool write_response(const response& res, const wire_options& options, std::string& out) {
    for (const auto& [name, value] : res.headers()) {
        if (!safe_name(name) || !safe_value(value)) {
            write_response(framing_error(status::internal_server_error, "Internal Server Error"), options,
                           out);
            return false;
        }
    }
    const auto code = res.status();
    out.reserve(out.size() + 160 + res.body().size());
    out += "HTTP/1.1 ";
    append_number(out, to_int(code));
    out += ' ';
    out += reason_phrase(code);
    out += "\r\n";
    bool has_date = false;
    bool has_server = false;
    for (const auto& [name, value] : res.headers()) {
        if (server_owned(name)) continue;
        has_date = has_date || iequals(name, "Date");
        has_server = has_server || iequals(name, "Server");
        out += name;
        out += ": ";
        out += value;
        out += "\r\n";
    }
    if (!has_server && !options.server_header.empty()) {
        out += "Server: ";
        out += options.server_header;
        out += "\r\n";
    }
    if (!has_date) {
        out += "Date: ";
        out += http_date();
        out += "\r\n";
    }
    const bool bodiless = is_bodiless(code);
    if (!bodiless) {
        out += "Content-Length: ";
        append_number(out, res.body().size());
        out += "\r\n";
    }
    if (!options.keep_alive) {
        out += "Connection: close\r\n";
    } else if (options.http10) {
        out += "Connection: keep-alive\r\n";
    }
    out += "\r\n";
    if (!bodiless && !options.head) out += res.body();
    return true;
}

response framing_error(status code, std::string_view detail) {
    return response::json({{"detail", detail}}, code);
}

}  // namespace keel::detail
