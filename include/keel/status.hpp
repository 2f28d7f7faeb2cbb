#pragma once

#include <iosfwd>
#include <string_view>

namespace keel {

/// An HTTP status code. Any value 100..999 may be used; the named ones are the common ones.
enum class status : unsigned short {
    continue_ = 100,
    switching_protocols = 101,
    ok = 200,
    created = 201,
    accepted = 202,
    no_content = 204,
    moved_permanently = 301,
    found = 302,
    see_other = 303,
    not_modified = 304,
    temporary_redirect = 307,
    permanent_redirect = 308,
    bad_request = 400,
    unauthorized = 401,
    forbidden = 403,
    not_found = 404,
    method_not_allowed = 405,
    not_acceptable = 406,
    request_timeout = 408,
    conflict = 409,
    gone = 410,
    length_required = 411,
    precondition_failed = 412,
    payload_too_large = 413,
    uri_too_long = 414,
    unsupported_media_type = 415,
    expectation_failed = 417,
    unprocessable_entity = 422,
    too_many_requests = 429,
    request_header_fields_too_large = 431,
    internal_server_error = 500,
    not_implemented = 501,
    bad_gateway = 502,
    service_unavailable = 503,
    gateway_timeout = 504,
    http_version_not_supported = 505,
};

/// The standard reason phrase ("Not Found"), or "Unknown" for codes without one.
std::string_view reason_phrase(status code) noexcept;

/// The numeric value of `code`.
constexpr unsigned to_int(status code) noexcept {
    return static_cast<unsigned>(code);
}

/// True when responses with this status carry no body (1xx, 204, 304).
constexpr bool is_bodiless(status code) noexcept {
    const auto n = to_int(code);
    return n < 200 || n == 204 || n == 304;
}

/// `res.status() == 404` reads as well as `res.status() == keel::status::not_found`.
constexpr bool operator==(status code, int number) noexcept {
    return static_cast<int>(to_int(code)) == number;
}

/// Prints "404 Not Found" (what GoogleTest shows when a status assertion fails).
std::ostream& operator<<(std::ostream& os, status code);

}  // namespace keel
