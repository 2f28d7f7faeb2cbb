#pragma once

// What names a request in logs and answers: its id (request::id()) — the client's X-Request-ID
// when it is a valid one, else a random UUID, echoed in the answer — and its trace context
// (request::trace()), from a valid W3C traceparent/tracestate or a new trace. Private to keel:
// app::handle assigns both, the server and the test client echo the id.

#include <keel/request.hpp>
#include <keel/response.hpp>

#include <string_view>

namespace keel::detail {

/// 1 to 128 characters of A-Z a-z 0-9 and -_.:/+=@~: nothing that could forge a log line or
/// break a header.
bool valid_request_id(std::string_view id) noexcept;

/// Gives `req` its id and its trace context.
void assign_request_identity(request& req);

/// Writes the request's id into the answer's X-Request-ID.
void echo_request_id(const request& req, response& res);

}  // namespace keel::detail
