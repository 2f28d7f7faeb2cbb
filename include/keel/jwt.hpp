#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace keel {

class logger;

/// Why a token was refused, for the operator's log: never sent to the client, which only ever
/// learns "not authenticated".
class jwt_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// The claims of a JSON Web Token whose signature, algorithm, time limits, issuer and audience
/// keel::jwt_verifier has checked.
class jwt_claims {
public:
    /// `sub`; empty when the token has none.
    const std::string& subject() const noexcept { return subject_; }
    /// `iss`; empty when the token has none.
    const std::string& issuer() const noexcept { return issuer_; }
    /// `aud`, a string or a list in the token, always a list here.
    const std::vector<std::string>& audience() const noexcept { return audience_; }
    /// The scopes granted: OAuth 2's space-separated `scope` string, or an `scp` list or string.
    const std::vector<std::string>& scopes() const noexcept { return scopes_; }
    bool has_scope(std::string_view scope) const noexcept;
    /// `exp`, when the token has one.
    std::optional<std::chrono::system_clock::time_point> expires_at() const noexcept { return expires_at_; }
    /// The `kid` of the key that verified the token; empty for a key set without ids.
    const std::string& key_id() const noexcept { return key_id_; }
    /// Every claim, as the token's payload holds them, for an app's own claims
    /// (`claims.payload().value("tenant", "")`); needs <nlohmann/json.hpp>.
    const nlohmann::json& payload() const noexcept;

    /// Claims read from a payload's JSON text without any token or check: for tests and
    /// dependency overrides that stand in for keel::bearer_jwt. Throws std::invalid_argument
    /// when it is not a JSON object with well-typed registered claims.
    static jwt_claims unverified(std::string_view payload_json);

private:
    friend class jwt_verifier;
    static jwt_claims from(std::shared_ptr<const nlohmann::json> payload);  // throws jwt_error
    std::string subject_;
    std::string issuer_;
    std::vector<std::string> audience_;
    std::vector<std::string> scopes_;
    std::optional<std::chrono::system_clock::time_point> expires_at_;
    std::string key_id_;
    std::shared_ptr<const nlohmann::json> payload_;
};

/// Where a jwt_verifier's keys come from and what it requires of a token.
///
/// The key (`key_file`, or the text itself in `key`) is one of:
///   - a PEM public key or certificate: an RSA key (2048 bits or more) verifies RS256, an EC key
///     on P-256 ES256, on P-384 ES384;
///   - a JWK Set (`{"keys": [...]}`) or one JWK: RSA, EC and `oct` keys, chosen by the token's
///     `kid`; a key's `alg`, when it names one, is the only algorithm it verifies (RS256/384/512,
///     ES256/384, HS256/384/512); without one, as above and HS256 for `oct`;
///   - anything else is an HS256 secret: the file's bytes (a final newline dropped), 32 bytes
///     or more.
/// The algorithm is the key's: a token whose `alg` header names another (`none`, HS256 against
/// an RSA key, ...) is refused.
struct jwt_options {
    std::string key_file{};  ///< read at construction, and again when it changes (rotation)
    std::string key{};       ///< the key's text, when there is no file
    std::string issuer{};    ///< when set, `iss` must equal it
    std::string audience{};  ///< when set, `aud` must be it or hold it
    /// Clock skew allowed on `exp`, `nbf` and `iat`.
    std::chrono::seconds leeway{30};
    /// Tokens without `exp` are refused unless this is false.
    bool require_expiry = true;
    /// Longer tokens are refused before any parsing.
    std::size_t max_token_bytes = 8192;
    /// How often `key_file` is looked at for a change; an unknown `kid` looks at once (at most
    /// once a second). A file that no longer parses keeps the keys in use, and says so in `log`.
    std::chrono::milliseconds reload_interval{1000};
    /// Where key (re)loading reports; null: standard error.
    const keel::logger* log = nullptr;
};

/// Verifies JSON Web Tokens (RFC 7519) signed with the configured key (see jwt_options), with
/// OpenSSL. Thread safe: one verifier, registered as an app service, serves every request
/// (keel::bearer_jwt asks for it):
/// ```
/// app.provide<keel::jwt_verifier>(keel::scope::app, [] {
///     return std::make_unique<keel::jwt_verifier>(keel::jwt_options{.key_file = "/etc/bank/jwt.pem"});
/// });
/// ```
/// A default-made verifier has no key: it verifies nothing, and keel::bearer_jwt answers 503
/// (never lets a request through unchecked).
class jwt_verifier {
public:
    jwt_verifier();
    /// Throws std::invalid_argument when the key cannot be read or is no key keel can use.
    explicit jwt_verifier(jwt_options options);
    ~jwt_verifier();
    jwt_verifier(const jwt_verifier&) = delete;
    jwt_verifier& operator=(const jwt_verifier&) = delete;

    /// Whether it holds a key.
    bool configured() const noexcept;
    /// The claims of `token` (the compact form, without "Bearer "), or jwt_error saying why not.
    jwt_claims verify(std::string_view token) const;
    /// Reads `key_file` again now (say, on SIGHUP); throws std::invalid_argument, keeping the
    /// keys in use, when it no longer holds a usable key.
    void reload();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace keel
