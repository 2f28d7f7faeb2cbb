#pragma once

#include <keel/detail/binders.hpp>
#include <keel/detail/fixed_string.hpp>
#include <keel/detail/value_doc.hpp>
#include <keel/request.hpp>
#include <keel/request_logger.hpp>

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace keel {

/// Where a request carries its API key.
enum class api_key_in { header, query, cookie };

/// The API keys a service accepts, each under an id that names its holder. Only each key's
/// SHA-256 digest is kept: API keys are long random secrets, for which a fast hash is right
/// (a password needs a slow one, see keel::password_store). Read-only once the app serves,
/// so thread safe.
/// ```
/// app.provide<keel::api_key_store>(keel::scope::app, [] {
///     return keel::api_key_store::from_file("/etc/bank/api-keys");  // "id sha256-hex" lines
/// });
/// ```
class api_key_store {
public:
    /// Adds a key by its digest, 64 hex digits (`printf %s "$KEY" | sha256sum`); throws
    /// std::invalid_argument for anything else.
    api_key_store& add_hash(std::string id, std::string_view sha256_hex);
    /// Adds a key given in clear: it is hashed at once and the text not kept.
    api_key_store& add_key(std::string id, std::string_view key);
    /// Reads `id sha256-hex` lines (blank lines and `#` comments skipped); throws
    /// std::invalid_argument naming the file and line of anything else.
    static api_key_store from_file(const std::string& path);

    /// The id of the key `presented` is, or nothing. Compares its digest with every stored one,
    /// in constant time, whatever matches.
    std::optional<std::string> identify(std::string_view presented) const;
    std::size_t size() const noexcept { return keys_.size(); }

private:
    struct entry {
        std::string id;
        std::array<unsigned char, 32> digest;
    };
    std::vector<entry> keys_;
};

/// Whose API key a request presented.
struct api_key_identity {
    std::string id;  ///< the id the key was stored under
};

namespace detail {

constexpr std::string_view to_string(api_key_in in) noexcept {
    return in == api_key_in::header ? "header" : in == api_key_in::query ? "query" : "cookie";
}

// The key as the request carries it, for keel::api_key; documented as an `apiKey` scheme named
// after the header, parameter or cookie.
template <fixed_string Name, api_key_in In>
struct presented_api_key {
    static constexpr security_scheme_doc scheme{Name.view(), "apiKey", {}, {}, to_string(In), Name.view()};
    std::optional<std::string_view> value;
};

/// The one value of header, query parameter or cookie `name`; nothing when there is none, or
/// several (whose key would it be?), or it is empty.
std::optional<std::string_view> api_key_value(const request& req, std::string_view name, api_key_in in);

/// The holder of `presented`, or http_error 401 (`WWW-Authenticate: APIKey`), the same for a
/// missing and a wrong key; a wrong one is logged at info.
api_key_identity check_api_key(std::optional<std::string_view> presented, const api_key_store& keys,
                               const request_logger& log);

template <fixed_string Name, api_key_in In>
struct binder<presented_api_key<Name, In>> {
    using slot = presented_api_key<Name, In>;
    static constexpr bool is_path = false;

    static constexpr dependency_node node() {
        value_doc doc{};
        doc.in = value_location::security;
        doc.security.scheme = &slot::scheme;
        return request_value_node("keel::api_key", Name.view(), doc);
    }
    static void bind(slot& out, call_context& ctx, std::size_t, std::vector<field_error>&) {
        out.value = api_key_value(ctx.req, Name.view(), In);
    }
    static slot take(slot& s) { return s; }
};

}  // namespace detail

/// The holder of the request's API key, from header `Name` (or the query parameter or cookie
/// of that name), checked against the app's keel::api_key_store service:
/// ```
/// using caller = keel::depends<keel::api_key<"X-API-Key">>;
/// using by_query = keel::depends<keel::api_key<"api_key", keel::api_key_in::query>>;
/// ```
/// A missing or unknown key: 401 `{"detail": "Not authenticated"}` with `WWW-Authenticate:
/// APIKey`, the same answer for both. The OpenAPI document declares an `apiKey` security scheme
/// named `Name`, so `/docs` offers "Authorize".
template <detail::fixed_string Name, api_key_in In = api_key_in::header>
api_key_identity api_key(detail::presented_api_key<Name, In> presented, const api_key_store& keys,
                         request_logger log) {
    return detail::check_api_key(presented.value, keys, log);
}

}  // namespace keel
