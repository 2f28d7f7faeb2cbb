#pragma once

#include <keel/detail/binders.hpp>
#include <keel/detail/value_doc.hpp>
#include <keel/request.hpp>

#include <optional>
#include <string_view>

namespace keel {

/// The credentials of `Authorization: Bearer <token>` (RFC 6750), as a parameter of a handler or
/// provider: the token, or nothing when the request has no such header (another scheme, a
/// malformed value). It answers nothing itself; keel::bearer_jwt verifies a JWT with it. The
/// OpenAPI document declares the `bearerAuth` scheme for every route that reads one, so
/// `/docs` offers "Authorize".
class bearer_token {
public:
    explicit bearer_token(std::optional<std::string_view> token = std::nullopt) noexcept : token_(token) {}

    bool has_value() const noexcept { return token_.has_value(); }
    /// The token; throws http_error 401 (`WWW-Authenticate: Bearer`) when there is none.
    std::string_view value() const;

private:
    std::optional<std::string_view> token_;  // into the request's headers
};

namespace detail {

inline constexpr security_scheme_doc bearer_scheme{"bearerAuth", "http", "bearer", "JWT", {}, {}};

/// The token of the request's Authorization header when its scheme is Bearer (any case) and
/// the token is one token68 (RFC 7235 §2.1); nothing otherwise.
std::optional<std::string_view> bearer_credentials(const request& req) noexcept;

/// Throws the 401 of a request without (usable) credentials: `challenge` goes in WWW-Authenticate.
[[noreturn]] void throw_not_authenticated(std::string_view challenge);

template <>
struct binder<bearer_token> {
    using slot = bearer_token;
    static constexpr bool is_path = false;

    static constexpr dependency_node node() {
        value_doc doc{};
        doc.in = value_location::security;
        doc.security.scheme = &bearer_scheme;
        return request_value_node("keel::bearer_token", "Authorization", doc);
    }
    static void bind(slot& out, call_context& ctx, std::size_t, std::vector<field_error>&) {
        out = bearer_token(bearer_credentials(ctx.req));
    }
    static bearer_token take(slot& s) { return s; }
};

}  // namespace detail

}  // namespace keel
