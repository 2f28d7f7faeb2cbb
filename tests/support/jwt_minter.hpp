#pragma once

// Makes JSON Web Tokens for tests, signed with OpenSSL directly (not with keel's verifier, so a
// shared mistake cannot pass both ways), and the keys to check them with: PEM, JWK, secrets.
// Also makes the bad tokens an attacker would: unsigned, signed with the wrong algorithm.

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>

namespace keel_test {

inline std::string base64url(std::string_view bytes) {
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        const auto n = (static_cast<unsigned char>(bytes[i]) << 16) |
                       (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                       static_cast<unsigned char>(bytes[i + 2]);
        out += alphabet[(n >> 18) & 63];
        out += alphabet[(n >> 12) & 63];
        out += alphabet[(n >> 6) & 63];
        out += alphabet[n & 63];
    }
    if (i + 1 == bytes.size()) {
        const auto n = static_cast<unsigned char>(bytes[i]) << 16;
        out += alphabet[(n >> 18) & 63];
        out += alphabet[(n >> 12) & 63];
    } else if (i + 2 == bytes.size()) {
        const auto n =
            (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8);
        out += alphabet[(n >> 18) & 63];
        out += alphabet[(n >> 12) & 63];
        out += alphabet[(n >> 6) & 63];
    }
    return out;
}

inline std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

using pkey_ptr = std::shared_ptr<EVP_PKEY>;

inline pkey_ptr new_rsa_key(unsigned bits = 2048) {
    return {EVP_RSA_gen(bits), EVP_PKEY_free};
}
inline pkey_ptr new_ec_key(const char* curve = "P-256") {
    return {EVP_EC_gen(curve), EVP_PKEY_free};
}

inline std::string public_pem(EVP_PKEY* key) {
    std::unique_ptr<BIO, int (*)(BIO*)> bio(BIO_new(BIO_s_mem()), BIO_free);
    PEM_write_bio_PUBKEY(bio.get(), key);
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(length));
}

inline std::string private_pem(EVP_PKEY* key) {
    std::unique_ptr<BIO, int (*)(BIO*)> bio(BIO_new(BIO_s_mem()), BIO_free);
    PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(length));
}

inline std::string big_number_bytes(EVP_PKEY* key, const char* name) {
    BIGNUM* n = nullptr;
    if (EVP_PKEY_get_bn_param(key, name, &n) != 1) throw std::runtime_error("no key parameter");
    std::string out(static_cast<std::size_t>(BN_num_bytes(n)), '\0');
    BN_bn2bin(n, reinterpret_cast<unsigned char*>(out.data()));
    BN_free(n);
    return out;
}

/// The public JWK of an RSA or P-256 key.
inline nlohmann::json public_jwk(EVP_PKEY* key, std::string kid) {
    nlohmann::json jwk = {{"kid", std::move(kid)}, {"use", "sig"}};
    if (EVP_PKEY_is_a(key, "RSA")) {
        jwk["kty"] = "RSA";
        jwk["n"] = base64url(big_number_bytes(key, OSSL_PKEY_PARAM_RSA_N));
        jwk["e"] = base64url(big_number_bytes(key, OSSL_PKEY_PARAM_RSA_E));
    } else {
        jwk["kty"] = "EC";
        jwk["crv"] = "P-256";
        std::string point(65, '\0');
        std::size_t length = 0;
        EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY,
                                        reinterpret_cast<unsigned char*>(point.data()), point.size(),
                                        &length);
        jwk["x"] = base64url(point.substr(1, 32));
        jwk["y"] = base64url(point.substr(33, 32));
    }
    return jwk;
}

/// The signature JOSE expects of `signing_input` under `alg` with `key` (an EVP key, or the
/// HMAC secret for HS*).
inline std::string sign(std::string_view alg, std::string_view signing_input, EVP_PKEY* key,
                        std::string_view secret = {}) {
    const EVP_MD* md = alg.ends_with("384")   ? EVP_sha384()
                       : alg.ends_with("512") ? EVP_sha512()
                                              : EVP_sha256();
    const auto* data = reinterpret_cast<const unsigned char*>(signing_input.data());
    if (alg.starts_with("HS")) {
        unsigned char mac[EVP_MAX_MD_SIZE];
        unsigned int length = 0;
        HMAC(md, secret.data(), static_cast<int>(secret.size()), data, signing_input.size(), mac, &length);
        return std::string(reinterpret_cast<char*>(mac), length);
    }
    std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    std::size_t length = 0;
    EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, key);
    EVP_DigestSign(ctx.get(), nullptr, &length, data, signing_input.size());
    std::string signature(length, '\0');
    EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length, data,
                   signing_input.size());
    signature.resize(length);
    if (!alg.starts_with("ES")) return signature;
    // ES*: DER to r || s, each padded to the curve's size.
    const auto* der = reinterpret_cast<const unsigned char*>(signature.data());
    ECDSA_SIG* parsed = d2i_ECDSA_SIG(nullptr, &der, static_cast<long>(signature.size()));
    const std::size_t part = alg == "ES384" ? 48 : 32;
    std::string raw(2 * part, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(parsed), reinterpret_cast<unsigned char*>(raw.data()),
                 static_cast<int>(part));
    BN_bn2binpad(ECDSA_SIG_get0_s(parsed), reinterpret_cast<unsigned char*>(raw.data() + part),
                 static_cast<int>(part));
    ECDSA_SIG_free(parsed);
    return raw;
}

/// A token with exactly this header and payload, signed as `header["alg"]` says.
inline std::string mint(const nlohmann::json& header, const nlohmann::json& payload, EVP_PKEY* key,
                        std::string_view secret = {}) {
    const auto input = base64url(header.dump()) + '.' + base64url(payload.dump());
    return input + '.' + base64url(sign(header.at("alg").get<std::string>(), input, key, secret));
}

/// Claims that pass: expiring in an hour, with `extra` merged in.
inline nlohmann::json fresh_claims(const nlohmann::json& extra = nlohmann::json::object()) {
    nlohmann::json claims = {{"sub", "user-1"}, {"iat", unix_now()}, {"exp", unix_now() + 3600}};
    claims.update(extra);
    return claims;
}

}  // namespace keel_test
