#pragma once

#include <keel/bearer_token.hpp>
#include <keel/depends.hpp>
#include <keel/detail/binders.hpp>
#include <keel/detail/fixed_string.hpp>
#include <keel/jwt.hpp>
#include <keel/request_logger.hpp>

#include <array>
#include <span>
#include <string_view>

namespace keel {

/// The verified claims of the request's bearer JWT, ready-made for handlers and providers:
/// ```
/// using current_token = keel::depends<keel::bearer_jwt>;
/// me get_me(current_token token) { return {token->subject()}; }
/// ```
/// It verifies with the app's keel::jwt_verifier service (register one). No token: 401 with
/// `WWW-Authenticate: Bearer`; a token refused for any reason: 401 with `WWW-Authenticate:
/// Bearer error="invalid_token"`, the same body whatever the reason (which goes to the log, at
/// info); a verifier without a key: 503. The handler runs only for a verified token.
jwt_claims bearer_jwt(bearer_token token, const jwt_verifier& verifier, request_logger log);

namespace detail {

// A parameter that only says, for the OpenAPI document, which scopes a provider requires.
template <fixed_string... Scopes>
struct required_scopes {
    static constexpr std::array<std::string_view, sizeof...(Scopes)> list{Scopes.view()...};
};

template <fixed_string... Scopes>
struct binder<required_scopes<Scopes...>> {
    using slot = required_scopes<Scopes...>;
    static constexpr bool is_path = false;

    static constexpr dependency_node node() {
        value_doc doc{};
        doc.in = value_location::security;
        doc.security = {&bearer_scheme, slot::list.data(), slot::list.size()};
        return request_value_node("keel::require_scopes", {}, doc);
    }
    static void bind(slot&, call_context&, std::size_t, std::vector<field_error>&) {}
    static slot take(slot& s) { return s; }
};

/// Throws http_error 403 unless `claims` grants every one of `scopes`.
void check_scopes(const jwt_claims& claims, std::span<const std::string_view> scopes);

}  // namespace detail

/// The bearer JWT's claims, when they grant every one of `Scopes` (OAuth 2's `scope` claim,
/// space-separated, or `scp`); otherwise 403 `{"detail": "Not enough permissions"}`, naming
/// none of them. Without a verified token: keel::bearer_jwt's 401 (or 503).
/// ```
/// using admin = keel::depends<keel::require_scopes<"admin">>;
/// ledger read_ledger(admin, db_session db) { ... }
/// keel::router ops{"/ops"};  ops.depend_on<keel::require_scopes<"ops">>();  // every route
/// ```
/// The OpenAPI document lists the scopes in the operation's `security` requirement.
template <detail::fixed_string... Scopes>
jwt_claims require_scopes(depends<bearer_jwt> claims, detail::required_scopes<Scopes...>) {
    detail::check_scopes(*claims, detail::required_scopes<Scopes...>::list);
    return *claims;
}

}  // namespace keel
