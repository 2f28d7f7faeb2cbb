#include "security/jwt_keys.hpp"

#include "security/base64url.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace keel::detail {

namespace {

using nlohmann::json;

constexpr std::array<jwt_algorithm, 8> algorithms{{
    {"HS256", jwt_family::hmac, 256, 0},
    {"HS384", jwt_family::hmac, 384, 0},
    {"HS512", jwt_family::hmac, 512, 0},
    {"RS256", jwt_family::rsa, 256, 0},
    {"RS384", jwt_family::rsa, 384, 0},
    {"RS512", jwt_family::rsa, 512, 0},
    {"ES256", jwt_family::ecdsa, 256, 32},
    {"ES384", jwt_family::ecdsa, 384, 48},
}};

const jwt_algorithm& algorithm_named(std::string_view name) {
    for (const auto& a : algorithms) {
        if (a.name == name) return a;
    }
    throw std::invalid_argument("keel: JWT key algorithm '" + std::string(name) +
                                "' is not one keel verifies (HS256/384/512, RS256/384/512, ES256/384)");
}

const EVP_MD* digest_of(const jwt_algorithm& a) {
    switch (a.digest_bits) {
        case 384:
            return EVP_sha384();
        case 512:
            return EVP_sha512();
        default:
            return EVP_sha256();
    }
}

// Nothing OpenSSL queued while refusing a key or a signature may be read later as another's.
struct clear_openssl_errors {
    ~clear_openssl_errors() { ERR_clear_error(); }
};

template <class T, void (*Free)(T*)>
struct openssl_deleter {
    void operator()(T* p) const noexcept { Free(p); }
};
void free_bio(BIO* bio) noexcept {
    BIO_free(bio);
}
using bio_ptr = std::unique_ptr<BIO, openssl_deleter<BIO, free_bio>>;
using x509_ptr = std::unique_ptr<X509, openssl_deleter<X509, X509_free>>;
using bignum_ptr = std::unique_ptr<BIGNUM, openssl_deleter<BIGNUM, BN_free>>;
using param_build_ptr = std::unique_ptr<OSSL_PARAM_BLD, openssl_deleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using params_ptr = std::unique_ptr<OSSL_PARAM, openssl_deleter<OSSL_PARAM, OSSL_PARAM_free>>;
using pkey_ctx_ptr = std::unique_ptr<EVP_PKEY_CTX, openssl_deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, openssl_deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using ecdsa_sig_ptr = std::unique_ptr<ECDSA_SIG, openssl_deleter<ECDSA_SIG, ECDSA_SIG_free>>;

std::shared_ptr<EVP_PKEY> owned(EVP_PKEY* key) {
    return {key, [](EVP_PKEY* k) { EVP_PKEY_free(k); }};
}

// The curve of an EC key, as JOSE names it ("P-256"); empty for another.
std::string curve_of(EVP_PKEY* key) {
    std::array<char, 64> name{};
    std::size_t length = 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, name.data(), name.size(), &length) !=
        1)
        return {};
    const std::string_view group(name.data(), length);
    if (group == "prime256v1" || group == "P-256") return "P-256";
    if (group == "secp384r1" || group == "P-384") return "P-384";
    return std::string(group);
}

// The algorithm a public key verifies: RS256 for RSA, ES256/ES384 by curve, or `declared`
// (a JWK's `alg`) when it fits the key. Refuses RSA keys under 2048 bits (RFC 7518 §3.3).
const jwt_algorithm& algorithm_for(EVP_PKEY* key, std::string_view declared) {
    if (EVP_PKEY_is_a(key, "RSA")) {
        if (EVP_PKEY_get_bits(key) < 2048)
            throw std::invalid_argument("keel: JWT RSA key of " + std::to_string(EVP_PKEY_get_bits(key)) +
                                        " bits; 2048 or more are needed");
        const auto& a = algorithm_named(declared.empty() ? "RS256" : declared);
        if (a.family != jwt_family::rsa)
            throw std::invalid_argument("keel: JWT RSA key declared for " + std::string(declared));
        return a;
    }
    if (EVP_PKEY_is_a(key, "EC")) {
        const auto curve = curve_of(key);
        const std::string_view fits = curve == "P-256" ? "ES256" : curve == "P-384" ? "ES384" : "";
        if (fits.empty())
            throw std::invalid_argument("keel: JWT EC key on curve '" + curve +
                                        "'; P-256 or P-384 are needed");
        if (!declared.empty() && declared != fits)
            throw std::invalid_argument("keel: JWT EC key on " + curve + " declared for " +
                                        std::string(declared));
        return algorithm_named(fits);
    }
    throw std::invalid_argument("keel: JWT public key of a type keel does not verify (RSA or EC are)");
}

jwt_key pem_key(std::string_view text) {
    if (text.find("PRIVATE KEY-----") != std::string_view::npos)
        throw std::invalid_argument(
            "keel: the JWT key file holds a private key; give the verifier the public key "
            "(openssl pkey -pubout)");
    bio_ptr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
    if (!bio) throw std::bad_alloc();
    EVP_PKEY* key = nullptr;
    if (text.find("-----BEGIN CERTIFICATE-----") != std::string_view::npos) {
        x509_ptr certificate(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
        if (certificate) key = X509_get_pubkey(certificate.get());
    } else {
        key = PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
    }
    if (!key)
        throw std::invalid_argument(
            "keel: the JWT key is PEM but not a public key or certificate OpenSSL reads");
    auto shared = owned(key);
    const auto& algorithm = algorithm_for(key, {});
    return jwt_key({}, algorithm, std::move(shared));
}

std::string jwk_bytes(const json& jwk, const char* member) {
    const auto found = jwk.find(member);
    if (found == jwk.end() || !found->is_string())
        throw std::invalid_argument(std::string("keel: JWK without its '") + member + "' member");
    auto bytes = base64url_decode(found->get_ref<const std::string&>());
    if (!bytes || bytes->empty())
        throw std::invalid_argument(std::string("keel: JWK member '") + member + "' is not base64url");
    return std::move(*bytes);
}

bignum_ptr big_number(const std::string& bytes) {
    bignum_ptr n(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                           static_cast<int>(bytes.size()), nullptr));
    if (!n) throw std::bad_alloc();
    return n;
}

// A public key from OSSL_PARAMs (OpenSSL 3's way to build one from its numbers).
std::shared_ptr<EVP_PKEY> key_from_params(const char* type, OSSL_PARAM_BLD* build) {
    params_ptr params(OSSL_PARAM_BLD_to_param(build));
    pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
    EVP_PKEY* key = nullptr;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1 || !key) {
        throw std::invalid_argument(std::string("keel: JWK is not a valid ") + type + " public key");
    }
    return owned(key);
}

std::shared_ptr<EVP_PKEY> rsa_jwk(const json& jwk) {
    const auto n = big_number(jwk_bytes(jwk, "n"));
    const auto e = big_number(jwk_bytes(jwk, "e"));
    param_build_ptr build(OSSL_PARAM_BLD_new());
    if (!build || OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
        throw std::bad_alloc();
    }
    return key_from_params("RSA", build.get());
}

std::shared_ptr<EVP_PKEY> ec_jwk(const json& jwk) {
    const auto crv = jwk.value("crv", std::string());
    const std::size_t size = crv == "P-256" ? 32 : crv == "P-384" ? 48 : 0;
    if (size == 0) throw std::invalid_argument("keel: JWK EC curve '" + crv + "'; P-256 or P-384 are needed");
    const auto x = jwk_bytes(jwk, "x");
    const auto y = jwk_bytes(jwk, "y");
    if (x.size() != size || y.size() != size)
        throw std::invalid_argument("keel: JWK EC coordinates of the wrong length for " + crv);
    std::string point = "\x04" + x + y;  // uncompressed
    const char* group = size == 32 ? "prime256v1" : "secp384r1";
    param_build_ptr build(OSSL_PARAM_BLD_new());
    if (!build || OSSL_PARAM_BLD_push_utf8_string(build.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(build.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) !=
            1) {
        throw std::bad_alloc();
    }
    return key_from_params("EC", build.get());
}

jwt_key jwk_key(const json& jwk) {
    if (!jwk.is_object()) throw std::invalid_argument("keel: a JWK is not a JSON object");
    const auto kty = jwk.value("kty", std::string());
    const auto kid =
        jwk.contains("kid") && jwk["kid"].is_string() ? jwk["kid"].get<std::string>() : std::string();
    const auto alg =
        jwk.contains("alg") && jwk["alg"].is_string() ? jwk["alg"].get<std::string>() : std::string();
    if (const auto use = jwk.find("use"); use != jwk.end() && *use != "sig")
        throw std::invalid_argument("keel: JWK '" + kid + "' is not for signatures (use: " + use->dump() +
                                    ")");
    if (kty == "oct") {
        const auto& algorithm = algorithm_named(alg.empty() ? "HS256" : alg);
        if (algorithm.family != jwt_family::hmac)
            throw std::invalid_argument("keel: JWK 'oct' key declared for " + alg);
        auto secret = jwk_bytes(jwk, "k");
        if (secret.size() * 8 < static_cast<std::size_t>(algorithm.digest_bits))
            throw std::invalid_argument("keel: JWK HMAC secret shorter than its algorithm's hash");
        return jwt_key(kid, algorithm, std::move(secret));
    }
    std::shared_ptr<EVP_PKEY> key;
    if (kty == "RSA") {
        key = rsa_jwk(jwk);
    } else if (kty == "EC") {
        key = ec_jwk(jwk);
    } else {
        throw std::invalid_argument("keel: JWK key type '" + kty + "'; RSA, EC or oct are verified");
    }
    const auto& algorithm = algorithm_for(key.get(), alg);
    return jwt_key(kid, algorithm, std::move(key));
}

// ES*: JOSE's signature is r and s side by side (RFC 7518 §3.4); OpenSSL verifies DER.
std::string ecdsa_der(std::string_view raw, std::size_t part) {
    if (raw.size() != 2 * part) return {};
    ecdsa_sig_ptr sig(ECDSA_SIG_new());
    auto* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), static_cast<int>(part), nullptr);
    auto* s =
        BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data() + part), static_cast<int>(part), nullptr);
    if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
        BN_free(r);
        BN_free(s);
        return {};
    }
    unsigned char* der = nullptr;
    const int length = i2d_ECDSA_SIG(sig.get(), &der);
    if (length <= 0) return {};
    std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(length));
    OPENSSL_free(der);
    return out;
}

}  // namespace

jwt_key::jwt_key(std::string id, const jwt_algorithm& algorithm, std::string secret)
    : id_(std::move(id)), algorithm_(&algorithm), secret_(std::move(secret)) {}

jwt_key::jwt_key(std::string id, const jwt_algorithm& algorithm, std::shared_ptr<evp_pkey_st> public_key)
    : id_(std::move(id)), algorithm_(&algorithm), public_key_(std::move(public_key)) {}

bool jwt_key::verifies(std::string_view signed_part, std::string_view signature) const {
    const clear_openssl_errors clear;
    const auto* data = reinterpret_cast<const unsigned char*>(signed_part.data());
    if (algorithm_->family == jwt_family::hmac) {
        std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
        unsigned int length = 0;
        if (!HMAC(digest_of(*algorithm_), secret_.data(), static_cast<int>(secret_.size()), data,
                  signed_part.size(), mac.data(), &length)) {
            return false;
        }
        return signature.size() == length && CRYPTO_memcmp(mac.data(), signature.data(), length) == 0;
    }
    std::string der;
    if (algorithm_->family == jwt_family::ecdsa) {
        der = ecdsa_der(signature, algorithm_->ecdsa_part_bytes);
        if (der.empty()) return false;
        signature = der;
    }
    md_ctx_ptr ctx(EVP_MD_CTX_new());
    return ctx &&
           EVP_DigestVerifyInit(ctx.get(), nullptr, digest_of(*algorithm_), nullptr, public_key_.get()) ==
               1 &&
           EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                            signature.size(), data, signed_part.size()) == 1;
}

jwt_key_set jwt_key_set::parse(std::string_view text) {
    const clear_openssl_errors clear;
    jwt_key_set set;
    if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // a UTF-8 byte order mark
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) throw std::invalid_argument("keel: the JWT key is empty");
    if (text.find("-----BEGIN") != std::string_view::npos) {
        set.keys_.push_back(pem_key(text));  // OpenSSL skips what comes before the PEM block
    } else if (text[first] == '{') {
        const auto document = json::parse(text, nullptr, false);
        if (document.is_discarded() || !document.is_object())
            throw std::invalid_argument("keel: the JWT key looks like JSON but is not a JWK or JWK Set");
        if (const auto keys = document.find("keys"); keys != document.end()) {
            if (!keys->is_array() || keys->empty())
                throw std::invalid_argument("keel: the JWK Set's 'keys' is not a list of keys");
            // An identity provider publishes keys for other uses and algorithms beside its
            // signing keys: those are skipped (and said), as long as one key is usable.
            for (const auto& jwk : *keys) {
                try {
                    set.keys_.push_back(jwk_key(jwk));
                } catch (const std::invalid_argument& e) {
                    set.skipped_.emplace_back(e.what());
                }
            }
            if (set.keys_.empty())
                throw std::invalid_argument("keel: the JWK Set holds no key keel can verify with: " +
                                            set.skipped_.front());
        } else {
            set.keys_.push_back(jwk_key(document));
        }
        for (std::size_t i = 0; i < set.keys_.size(); ++i) {
            for (std::size_t j = 0; j < i; ++j) {
                if (set.keys_[i].id() == set.keys_[j].id())
                    throw std::invalid_argument("keel: the JWK Set holds two keys with kid '" +
                                                set.keys_[i].id() + "'");
            }
        }
    } else {
        // An HMAC secret, as a file holds it: its bytes, without the newline an editor adds.
        // What is plainly a document is not a secret (an HTTP answer, an HTML error page).
        if (text.substr(first).starts_with("HTTP/") || text.find('<') != std::string_view::npos)
            throw std::invalid_argument(
                "keel: the JWT key is neither PEM, a JWK Set nor a plain HS256 secret");
        std::string secret(text);
        if (secret.ends_with('\n')) secret.pop_back();
        if (secret.ends_with('\r')) secret.pop_back();
        if (secret.size() < 32)
            throw std::invalid_argument("keel: the JWT HS256 secret has " + std::to_string(secret.size()) +
                                        " bytes; 32 or more are needed");
        set.keys_.emplace_back(std::string(), algorithm_named("HS256"), std::move(secret));
    }
    return set;
}

bool jwt_key_set::same_algorithms(const jwt_key_set& other) const noexcept {
    const auto names = [](const jwt_key_set& set) {
        std::vector<std::string_view> out;
        for (const auto& key : set.keys_) out.push_back(key.algorithm().name);
        std::sort(out.begin(), out.end());
        out.erase(std::unique(out.begin(), out.end()), out.end());
        return out;
    };
    return names(*this) == names(other);
}

const jwt_key* jwt_key_set::find(const std::string* kid) const noexcept {
    // One key without an id (a PEM file, a secret) is the key, whatever `kid` the issuer adds.
    if (keys_.size() == 1 && (kid == nullptr || keys_.front().id().empty())) return &keys_.front();
    if (kid == nullptr) return nullptr;
    for (const auto& key : keys_) {
        if (key.id() == *kid) return &key;
    }
    return nullptr;
}

}  // namespace keel::detail
