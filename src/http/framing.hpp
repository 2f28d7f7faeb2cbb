#pragma once

// Reading a request off the wire: Beast's parser with keel's limits, the RFC 9112 framing rules
// Beast does not enforce, and the conversion to keel::request. The server runs these steps
// incrementally on a socket; parse_request() runs them on bytes in memory (the fuzz target).
// Private to keel: Beast stays out of the public headers.

#include <keel/request.hpp>
#include <keel/server_options.hpp>
#include <keel/status.hpp>

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace keel::detail {

using request_parser = boost::beast::http::request_parser<boost::beast::http::string_body>;

struct framing_problem {
    status code;
    std::string_view detail;
};

/// Beast's parser accepts a few framings that RFC 9112 rejects, and each is a way to smuggle a
/// second request past a proxy that reads the message differently: keel rejects them all.
std::optional<framing_problem> check_framing(const request_parser& parser);

/// The parsed message as keel's request (absolute-form targets reduced to origin form).
request to_request(boost::beast::http::request<boost::beast::http::string_body>&& msg,
                   const std::string& remote);

/// Whether the first line of `data` names an HTTP version other than 1.x ("HTTP/2.0"): Beast
/// reports that and garbage alike as a bad version, but only the first is a 505.
bool names_another_version(std::string_view data);

/// What the server makes of `bytes` as the first request on a connection, with `limits`'
/// header and body sizes: a request, or the status it would answer before closing, or neither
/// (the bytes end before the request does).
struct parse_result {
    std::optional<request> parsed;
    std::optional<status> rejected;
};
parse_result parse_request(std::string_view bytes, const server_options& limits);

}  // namespace keel::detail
