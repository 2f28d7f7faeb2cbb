#pragma once

#include <keel/detail/binders.hpp>
#include <keel/detail/value_doc.hpp>
#include <keel/password_store.hpp>
#include <keel/request.hpp>
#include <keel/request_logger.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace keel {

/// Who passed HTTP Basic.
struct basic_identity {
    std::string username;
};

namespace detail {

inline constexpr security_scheme_doc basic_scheme{"basicAuth", "http", "basic", {}, {}, {}};

// `Authorization: Basic base64(user:password)` as the request carries it (RFC 7617).
struct basic_credentials {
    std::optional<std::pair<std::string, std::string>> user_and_password;
};

/// The user and password of the request's Authorization header when its scheme is Basic (any
/// case) and it decodes to `user:password`; nothing otherwise.
std::optional<std::pair<std::string, std::string>> basic_credentials_of(const request& req);

template <>
struct binder<basic_credentials> {
    using slot = basic_credentials;
    static constexpr bool is_path = false;

    static constexpr dependency_node node() {
        value_doc doc{};
        doc.in = value_location::security;
        doc.security.scheme = &basic_scheme;
        return request_value_node("keel::http_basic", "Authorization", doc);
    }
    static void bind(slot& out, call_context& ctx, std::size_t, std::vector<field_error>&) {
        out.user_and_password = basic_credentials_of(ctx.req);
    }
    static slot take(slot& s) { return std::move(s); }
};

}  // namespace detail

/// The user of the request's HTTP Basic credentials, checked against the app's
/// keel::password_store service: for internal tools, over TLS.
/// ```
/// app.provide<keel::password_store>(keel::scope::app, [] {
///     return keel::password_store::from_file("/etc/bank/operators");
/// });
/// app.get("/ops", [](keel::depends<keel::http_basic> who) { return who->username; });
/// ```
/// Missing, malformed or wrong credentials: 401 `{"detail": "Not authenticated"}` with
/// `WWW-Authenticate: Basic realm="keel", charset="UTF-8"`, the same answer whatever was wrong
/// (a wrong password is logged at info, without the password).
basic_identity http_basic(detail::basic_credentials credentials, const password_store& users,
                          request_logger log);

}  // namespace keel
