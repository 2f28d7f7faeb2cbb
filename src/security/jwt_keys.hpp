#pragma once

// The keys a jwt_verifier checks signatures with, parsed from PEM, a JWK (Set) or an HMAC
// secret, each bound to the one algorithm it verifies (RFC 7518 §3). OpenSSL stays in src/.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

struct evp_pkey_st;

namespace keel::detail {

enum class jwt_family { hmac, rsa, ecdsa };

// One JWS algorithm keel verifies.
struct jwt_algorithm {
    std::string_view name;  // the `alg` header value: "RS256"
    jwt_family family;
    int digest_bits;               // SHA-256, -384 or -512
    std::size_t ecdsa_part_bytes;  // ES*: the length of r and of s in the signature
};

class jwt_key {
public:
    jwt_key(std::string id, const jwt_algorithm& algorithm, std::string secret);
    jwt_key(std::string id, const jwt_algorithm& algorithm, std::shared_ptr<evp_pkey_st> public_key);

    const std::string& id() const noexcept { return id_; }
    const jwt_algorithm& algorithm() const noexcept { return *algorithm_; }
    /// Whether `signature` signs `signed_part` (the token's "header.payload") under this key.
    bool verifies(std::string_view signed_part, std::string_view signature) const;

private:
    std::string id_;
    const jwt_algorithm* algorithm_;
    std::string secret_;                       // hmac
    std::shared_ptr<evp_pkey_st> public_key_;  // rsa, ecdsa
};

class jwt_key_set {
public:
    /// Parses a PEM public key or certificate, a JWK Set or JWK, or else an HMAC secret (see
    /// keel::jwt_options); throws std::invalid_argument saying what is wrong with it.
    static jwt_key_set parse(std::string_view text);

    /// The key for a token's `kid` (nullptr for none): the one with that id; without a `kid`,
    /// the only key there is; the only key whatever the `kid` when it has no id itself. Null
    /// when there is no such key.
    const jwt_key* find(const std::string* kid) const noexcept;
    /// Why the JWK Set's other keys were left out (another use, algorithm or curve).
    const std::vector<std::string>& skipped() const noexcept { return skipped_; }
    /// Whether both sets verify the same algorithms: a rotation keeps them, while a file that
    /// turned into something else (an RSA key file now read as an HMAC secret) would not.
    bool same_algorithms(const jwt_key_set& other) const noexcept;

private:
    std::vector<jwt_key> keys_;
    std::vector<std::string> skipped_;
};

}  // namespace keel::detail
