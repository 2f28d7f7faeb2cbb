#include <keel/bearer_jwt.hpp>
#include <keel/bearer_token.hpp>
#include <keel/http_error.hpp>

#include "security/credentials.hpp"

#include <algorithm>
#include <cctype>

namespace keel {

namespace {

bool is_token68_char(unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

// RFC 7235 §2.1: token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
bool is_token68(std::string_view text) {
    const auto end = text.find_last_not_of('=');
    if (end == std::string_view::npos) return false;
    return std::all_of(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(end) + 1,
                       [](char c) { return is_token68_char(static_cast<unsigned char>(c)); });
}

}  // namespace

std::string_view bearer_token::value() const {
    if (!token_) detail::throw_not_authenticated("Bearer");
    return *token_;
}

namespace detail {

std::optional<std::string_view> bearer_credentials(const request& req) noexcept {
    const auto text = authorization_credentials(req, "bearer");
    if (!text || !is_token68(*text)) return std::nullopt;
    return text;
}

void throw_not_authenticated(std::string_view challenge) {
    header_map headers;
    headers.set("WWW-Authenticate", std::string(challenge));
    throw http_error(status::unauthorized, "Not authenticated", std::move(headers));
}

void check_scopes(const jwt_claims& claims, std::span<const std::string_view> scopes) {
    for (const auto scope : scopes) {
        if (!claims.has_scope(scope)) {
            header_map headers;
            headers.set("WWW-Authenticate", R"(Bearer error="insufficient_scope")");
            throw http_error(status::forbidden, "Not enough permissions", std::move(headers));
        }
    }
}

}  // namespace detail

jwt_claims bearer_jwt(bearer_token token, const jwt_verifier& verifier, request_logger log) {
    if (!verifier.configured()) {
        log.warning("keel: a route needs a bearer JWT, but the jwt_verifier has no key");
        throw http_error(status::service_unavailable, "authentication is not configured");
    }
    if (!token.has_value()) detail::throw_not_authenticated("Bearer");
    try {
        return verifier.verify(token.value());
    } catch (const jwt_error& e) {
        log.info(std::string("keel: bearer token refused: ") + e.what());
    }
    detail::throw_not_authenticated(R"(Bearer error="invalid_token")");
}

}  // namespace keel
