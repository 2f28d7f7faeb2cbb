#include "http/framing.hpp"

#include <keel/header_map.hpp>
#include <keel/method.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <cctype>

namespace keel::detail {

namespace http = boost::beast::http;

namespace {

bool only_chunked(const http::request<http::string_body>& msg) {
    std::size_t chunked = 0;
    for (const auto& field : msg) {
        if (field.name() != http::field::transfer_encoding) continue;
        std::string_view rest = field.value();
        while (!rest.empty()) {
            const auto comma = rest.find(',');
            const auto token = trim_whitespace(rest.substr(0, comma));
            rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
            if (token.empty()) continue;
            if (!iequals(token, "chunked")) return false;
            ++chunked;
        }
    }
    return chunked == 1;
}

std::string origin_target(std::string_view target) {
    if (target.starts_with("http://") || target.starts_with("https://")) {
        const auto authority = target.find("//") + 2;
        const auto path = target.find_first_of("/?", authority);
        if (path == std::string_view::npos) return "/";
        if (target[path] == '?') return "/" + std::string(target.substr(path));
        return std::string(target.substr(path));
    }
    return std::string(target);
}

}  // namespace

std::optional<framing_problem> check_framing(const request_parser& parser) {
    const auto& msg = parser.get();
    const unsigned version = msg.version();
    if (version != 10 && version != 11)
        return framing_problem{status::http_version_not_supported, "HTTP version not supported"};

    std::size_t hosts = 0, lengths = 0, encodings = 0;
    for (const auto& field : msg) {
        switch (field.name()) {
            case http::field::host:
                ++hosts;
                break;
            case http::field::content_length:
                ++lengths;
                break;
            case http::field::transfer_encoding:
                ++encodings;
                break;
            default:
                break;
        }
    }
    if (hosts > 1 || (version == 11 && hosts == 0)) {
        return framing_problem{status::bad_request, "an HTTP/1.1 request needs exactly one Host field"};
    }
    if (lengths > 1) return framing_problem{status::bad_request, "more than one Content-Length field"};
    if (lengths == 1 && msg[http::field::content_length].find(',') != std::string_view::npos) {
        return framing_problem{status::bad_request, "Content-Length must be a single number"};
    }
    if (encodings > 0) {
        if (version == 10)
            return framing_problem{status::bad_request, "Transfer-Encoding in an HTTP/1.0 request"};
        if (lengths > 0)
            return framing_problem{status::bad_request, "both Content-Length and Transfer-Encoding"};
        if (!parser.chunked())
            return framing_problem{status::bad_request, "Transfer-Encoding must end with chunked"};
        if (!only_chunked(msg)) {
            return framing_problem{status::not_implemented, "only the chunked transfer coding is supported"};
        }
    }
    const auto target = msg.target();
    const bool origin_form = !target.empty() && target.front() == '/';
    const bool absolute_form = target.starts_with("http://") || target.starts_with("https://");
    const bool asterisk = target == "*" && msg.method() == http::verb::options;
    if (!origin_form && !absolute_form && !asterisk)
        return framing_problem{status::bad_request, "bad request target"};
    return std::nullopt;
}

request to_request(http::request<http::string_body>&& msg, const std::string& remote) {
    request req;
    const auto method_name = msg.method_string();
    req.set_method(parse_method(method_name), method_name);
    req.set_target(origin_target(msg.target()));
    req.set_version(static_cast<int>(msg.version()));
    req.set_keep_alive(msg.keep_alive());
    auto& headers = req.headers();
    for (const auto& field : msg) headers.add(std::string(field.name_string()), std::string(field.value()));
    req.body() = std::move(msg.body());
    req.set_remote_address(remote);
    return req;
}

bool names_another_version(std::string_view data) {
    const auto line_end = data.find("\r\n");
    if (line_end == std::string_view::npos || line_end < 8) return false;
    const auto version = data.substr(line_end - 8, 8);  // "HTTP/d.d"
    return version.starts_with("HTTP/") && std::isdigit(static_cast<unsigned char>(version[5])) &&
           version[6] == '.' && std::isdigit(static_cast<unsigned char>(version[7]));
}

parse_result parse_request(std::string_view bytes, const server_options& limits) {
    request_parser parser;
    parser.header_limit(
        static_cast<std::uint32_t>(std::min<std::size_t>(limits.max_header_bytes, UINT32_MAX)));
    parser.body_limit(limits.max_body_bytes);
    parser.eager(true);
    boost::system::error_code ec;
    std::string_view rest = bytes;
    while (!parser.is_done() && !rest.empty()) {
        const auto used = parser.put(boost::asio::buffer(rest.data(), rest.size()), ec);
        if (ec == http::error::need_more) break;
        if (ec) break;
        rest.remove_prefix(used);
        if (used == 0) break;
    }
    if (ec && ec != http::error::need_more) {
        if (ec == http::error::header_limit) return {std::nullopt, status::request_header_fields_too_large};
        if (ec == http::error::body_limit) return {std::nullopt, status::payload_too_large};
        if (ec == http::error::bad_version && names_another_version(bytes))
            return {std::nullopt, status::http_version_not_supported};
        return {std::nullopt, status::bad_request};
    }
    if (!parser.is_header_done()) return {};
    if (const auto problem = check_framing(parser)) return {std::nullopt, problem->code};
    if (!parser.is_done()) return {};
    return {to_request(parser.release(), "fuzz"), std::nullopt};
}

}  // namespace keel::detail
