#pragma once

// Every request's id (request::id()): the client's X-Request-ID when it is a valid one, else a
// random UUID; echoed in the answer. Private to keel: app::handle gives it, the server and the
// test client echo it.

#include <keel/request.hpp>
#include <keel/response.hpp>

#include <string_view>

namespace keel::detail {

/// 1 to 128 characters of A-Z a-z 0-9 and -_.:/+=@~: nothing that could forge a log line or
/// break a header.
bool valid_request_id(std::string_view id) noexcept;

/// Gives `req` its id: its valid X-Request-ID, or a new random UUID (version 4).
void assign_request_id(request& req);

/// Writes the request's id into the answer's X-Request-ID.
void echo_request_id(const request& req, response& res);

}  // namespace keel::detail
