#include <keel/bearer_token.hpp>  // detail::throw_not_authenticated
#include <keel/http_basic.hpp>

#include "security/base64url.hpp"
#include "security/credentials.hpp"

namespace keel {

namespace detail {

std::optional<std::pair<std::string, std::string>> basic_credentials_of(const request& req) {
    const auto text = authorization_credentials(req, "basic");
    if (!text) return std::nullopt;
    auto decoded = base64_decode(*text);
    if (!decoded) return std::nullopt;
    const auto colon = decoded->find(':');
    if (colon == std::string::npos) return std::nullopt;
    return std::pair{decoded->substr(0, colon), decoded->substr(colon + 1)};
}

}  // namespace detail

basic_identity http_basic(detail::basic_credentials credentials, const password_store& users,
                          request_logger log) {
    if (credentials.user_and_password) {
        auto& [user, password] = *credentials.user_and_password;
        if (users.verify(user, password)) return {std::move(user)};
        log.info("keel: HTTP Basic credentials refused", {{"user", user}});
    }
    detail::throw_not_authenticated(R"(Basic realm="keel", charset="UTF-8")");
}

}  // namespace keel
