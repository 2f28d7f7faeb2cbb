// Bearer JWTs, attacked: every forged, altered, stale or misdirected token is a 401 that never
// reaches the handler, and a valid one reaches it with its claims.

#include <keel/bearer_jwt.hpp>

#include "../support/jwt_minter.hpp"

#include <gtest/gtest.h>
#include <keel/app.hpp>
#include <keel/jwt.hpp>
#include <keel/router.hpp>
#include <keel/testing/client.hpp>

#include <unistd.h>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

using keel::testing::client;
using keel_test::fresh_claims;
using keel_test::mint;
using keel_test::unix_now;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// Made once: RSA key generation takes a while, longer under the sanitizers.
EVP_PKEY* rsa_key() {
    static const auto key = keel_test::new_rsa_key();
    return key.get();
}
EVP_PKEY* other_rsa_key() {
    static const auto key = keel_test::new_rsa_key();
    return key.get();
}
EVP_PKEY* ec_key() {
    static const auto key = keel_test::new_ec_key();
    return key.get();
}

const std::string secret = "0123456789abcdef0123456789abcdef-test-secret";

std::string rs256(const json& claims, json header = {{"alg", "RS256"}, {"typ", "JWT"}}) {
    return mint(header, claims, rsa_key());
}

std::string bearer(const std::string& token) {
    return "Bearer " + token;
}

keel::jwt_verifier rsa_verifier(keel::jwt_options options = {}) {
    options.key = keel_test::public_pem(rsa_key());
    return keel::jwt_verifier(std::move(options));
}

// Whether `token` verifies; the reason it does not, for the test's message.
std::string refusal(const keel::jwt_verifier& verifier, const std::string& token) {
    try {
        verifier.verify(token);
        return "";
    } catch (const keel::jwt_error& e) {
        return e.what();
    }
}

// An app whose /me answers the verified subject, and counts the requests that reached it.
struct protected_app {
    explicit protected_app(keel::jwt_options options) {
        app.provide<keel::jwt_verifier>(keel::scope::app,
                                        [options] { return std::make_unique<keel::jwt_verifier>(options); });
        app.get("/me", [this](keel::depends<keel::bearer_jwt> token) {
            ++reached;
            return token->subject();
        });
        app.get("/admin", [this](keel::depends<keel::require_scopes<"admin">> token) {
            ++reached;
            return token->subject();
        });
        app.logger().set_level(keel::log_level::off);
    }
    keel::app app;
    std::atomic<int> reached{0};
};

keel::jwt_options rsa_options() {
    return {.key = keel_test::public_pem(rsa_key())};
}

}  // namespace

TEST(JwtTest, AValidTokenReachesTheHandlerWithItsClaims) {
    protected_app p(rsa_options());
    client c{p.app};
    const auto res = c.get("/me", {{"Authorization", bearer(rs256(fresh_claims({{"sub", "ada"}})))}});
    ASSERT_EQ(res.status(), 200) << res;
    EXPECT_EQ(res.json(), "ada");
    EXPECT_EQ(p.reached, 1);
}

TEST(JwtTest, EveryForgedOrStaleTokenIsA401ThatNeverReachesTheHandler) {
    protected_app p(
        {.key = keel_test::public_pem(rsa_key()), .issuer = "https://issuer", .audience = "bank"});
    client c{p.app};
    const auto good = fresh_claims({{"iss", "https://issuer"}, {"aud", "bank"}});
    const auto valid = rs256(good);
    const auto dot = valid.find('.');
    const auto last_dot = valid.rfind('.');
    auto tampered_claims = good;
    tampered_claims["sub"] = "admin";
    const std::string pem = keel_test::public_pem(rsa_key());

    const std::vector<std::pair<std::string, std::string>> attacks = {
        {"alg none, no signature", keel_test::base64url(R"({"alg":"none","typ":"JWT"})") + '.' +
                                       keel_test::base64url(good.dump()) + '.'},
        {"alg none, the real signature",
         keel_test::base64url(R"({"alg":"none"})") + valid.substr(dot, std::string::npos)},
        {"HS256 signed with the RSA public key as the secret", mint({{"alg", "HS256"}}, good, nullptr, pem)},
        {"RS256 signed by another key", mint({{"alg", "RS256"}}, good, other_rsa_key())},
        {"the payload altered after signing",
         valid.substr(0, dot + 1) + keel_test::base64url(tampered_claims.dump()) + valid.substr(last_dot)},
        {"expired beyond the leeway",
         rs256(fresh_claims({{"iss", "https://issuer"}, {"aud", "bank"}, {"exp", unix_now() - 120}}))},
        {"not valid yet",
         rs256(fresh_claims({{"iss", "https://issuer"}, {"aud", "bank"}, {"nbf", unix_now() + 600}}))},
        {"issued in the future",
         rs256(fresh_claims({{"iss", "https://issuer"}, {"aud", "bank"}, {"iat", unix_now() + 600}}))},
        {"no expiry", rs256(json{{"sub", "x"}, {"iss", "https://issuer"}, {"aud", "bank"}})},
        {"exp not a number",
         rs256(fresh_claims({{"iss", "https://issuer"}, {"aud", "bank"}, {"exp", "never"}}))},
        {"another audience", rs256(fresh_claims({{"iss", "https://issuer"}, {"aud", "other"}}))},
        {"no audience", rs256(fresh_claims({{"iss", "https://issuer"}}))},
        {"another issuer", rs256(fresh_claims({{"iss", "https://evil"}, {"aud", "bank"}}))},
        {"an over-long header", rs256(good, {{"alg", "RS256"}, {"pad", std::string(9000, 'x')}})},
        {"a segment that is not base64url", valid.substr(0, dot + 1) + "e30~" + valid.substr(last_dot)},
        {"a padded segment", valid.substr(0, dot) + "=" + valid.substr(dot)},
        {"a signature that is not base64url", valid.substr(0, last_dot + 1) + "!!!!"},
        {"two parts", valid.substr(0, last_dot)},
        {"four parts", valid + ".e30"},
        {"critical extensions", rs256(good, {{"alg", "RS256"}, {"crit", {"exp"}}, {"exp", 1}})},
        {"a header that is not JSON", keel_test::base64url("{not json") + valid.substr(dot)},
        {"empty", ""},
    };
    for (const auto& [what, token] : attacks) {
        const auto res = c.get("/me", {{"Authorization", "Bearer " + token}});
        EXPECT_EQ(res.status(), 401) << what << ": " << res;
        const auto challenge = res.header("WWW-Authenticate").value_or("");
        EXPECT_TRUE(challenge.starts_with("Bearer")) << what << ": " << challenge;
        // The same answer whatever was wrong: nothing for an attacker to tell apart.
        EXPECT_EQ(res.json(), (json{{"detail", "Not authenticated"}})) << what;
    }
    EXPECT_EQ(p.reached, 0) << "a refused token reached the handler";
    const auto res = c.get("/me", {{"Authorization", bearer(valid)}});
    EXPECT_EQ(res.status(), 200) << "the valid token the attacks were made from: " << res;
}

TEST(JwtTest, MissingOrOtherCredentialsAreA401WithTheBearerChallenge) {
    protected_app p(rsa_options());
    client c{p.app};
    for (const auto& header : std::vector<keel::header_map>{
             {},
             {{"Authorization", "Basic dXNlcjpwYXNz"}},
             {{"Authorization", "Bearer"}},
             {{"Authorization", "Bearer a b"}},
             {{"Authorization", "Bearertoken"}},
         }) {
        const auto res = c.get("/me", header);
        EXPECT_EQ(res.status(), 401) << res;
        EXPECT_EQ(res.header("WWW-Authenticate").value_or(""), "Bearer") << res;
    }
    EXPECT_EQ(p.reached, 0);
    // The scheme is case-insensitive (RFC 7235).
    EXPECT_EQ(c.get("/me", {{"Authorization", "bearer " + rs256(fresh_claims())}}).status(), 200);
}

TEST(JwtTest, TheLeewayForgivesASmallClockSkew) {
    const auto verifier = rsa_verifier({.leeway = 30s});
    EXPECT_EQ(refusal(verifier, rs256(fresh_claims({{"exp", unix_now() - 10}}))), "");
    EXPECT_EQ(refusal(verifier, rs256(fresh_claims({{"nbf", unix_now() + 10}}))), "");
    EXPECT_NE(refusal(verifier, rs256(fresh_claims({{"exp", unix_now() - 60}}))), "");
    const auto strict = rsa_verifier({.leeway = 0s});
    EXPECT_NE(refusal(strict, rs256(fresh_claims({{"exp", unix_now() - 10}}))), "");
}

TEST(JwtTest, TheKeyFixesTheAlgorithm) {
    // An EC key verifies ES256 only; an HS256 secret only HS256; an RSA key only RS256.
    const keel::jwt_verifier ec({.key = keel_test::public_pem(ec_key())});
    EXPECT_EQ(refusal(ec, mint({{"alg", "ES256"}}, fresh_claims(), ec_key())), "");
    EXPECT_NE(refusal(ec, mint({{"alg", "HS256"}}, fresh_claims(), nullptr, keel_test::public_pem(ec_key()))),
              "");
    EXPECT_NE(refusal(ec, mint({{"alg", "ES384"}}, fresh_claims(), ec_key())), "");

    const keel::jwt_verifier hs({.key = secret});
    EXPECT_EQ(refusal(hs, mint({{"alg", "HS256"}}, fresh_claims(), nullptr, secret)), "");
    EXPECT_NE(refusal(hs, mint({{"alg", "HS512"}}, fresh_claims(), nullptr, secret)), "");
    EXPECT_NE(refusal(hs, mint({{"alg", "HS256"}}, fresh_claims(), nullptr, secret + "x")), "");

    const auto rsa = rsa_verifier();
    EXPECT_NE(refusal(rsa, mint({{"alg", "RS512"}}, fresh_claims(), rsa_key())), "");
    EXPECT_NE(refusal(rsa, mint({{"alg", "PS256"}}, fresh_claims(), rsa_key())), "");
}

TEST(JwtTest, AnEcdsaSignatureInDerFormIsRefused) {
    // JOSE signs ES256 as r||s (64 bytes); OpenSSL's DER form of the same signature is not a JWS.
    const keel::jwt_verifier ec({.key = keel_test::public_pem(ec_key())});
    const auto token = mint({{"alg", "ES256"}}, fresh_claims(), ec_key());
    const auto input = token.substr(0, token.rfind('.'));
    std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    std::size_t length = 0;
    EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, ec_key());
    EVP_DigestSign(ctx.get(), nullptr, &length, reinterpret_cast<const unsigned char*>(input.data()),
                   input.size());
    std::string der(length, '\0');
    EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(der.data()), &length,
                   reinterpret_cast<const unsigned char*>(input.data()), input.size());
    der.resize(length);
    EXPECT_NE(refusal(ec, input + '.' + keel_test::base64url(der)), "");
    EXPECT_EQ(refusal(ec, token), "");
}

TEST(JwtTest, AJwkSetPicksTheKeyByKidAndRefusesAnUnknownKid) {
    const json set = {
        {"keys", {keel_test::public_jwk(rsa_key(), "rsa-1"), keel_test::public_jwk(ec_key(), "ec-1")}}};
    const keel::jwt_verifier verifier({.key = set.dump()});
    EXPECT_EQ(refusal(verifier, mint({{"alg", "RS256"}, {"kid", "rsa-1"}}, fresh_claims(), rsa_key())), "");
    EXPECT_EQ(refusal(verifier, mint({{"alg", "ES256"}, {"kid", "ec-1"}}, fresh_claims(), ec_key())), "");
    EXPECT_NE(refusal(verifier, mint({{"alg", "RS256"}, {"kid", "rsa-2"}}, fresh_claims(), rsa_key())), "");
    EXPECT_NE(refusal(verifier, mint({{"alg", "RS256"}, {"kid", "ec-1"}}, fresh_claims(), rsa_key())), "");
    EXPECT_NE(refusal(verifier, mint({{"alg", "RS256"}}, fresh_claims(), rsa_key())), "")
        << "no kid, two keys: which one?";
    EXPECT_EQ(verifier.verify(mint({{"alg", "RS256"}, {"kid", "rsa-1"}}, fresh_claims(), rsa_key())).key_id(),
              "rsa-1");
}

TEST(JwtTest, ARotatedKeyFileIsPickedUpWithoutARestart) {
    const auto dir = std::filesystem::temp_directory_path() / ("keel_jwt_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto file = dir / "jwks.json";
    const auto write = [&](const json& keys) {
        const auto staged = dir / "jwks.json.new";
        std::ofstream(staged) << json{{"keys", keys}}.dump();
        std::filesystem::rename(staged, file);  // as a deploy replaces it: atomically
    };
    write(json::array({keel_test::public_jwk(rsa_key(), "old")}));
    keel::jwt_verifier verifier({.key_file = file.string(), .reload_interval = 100ms});
    const auto new_token = mint({{"alg", "RS256"}, {"kid", "new"}}, fresh_claims(), other_rsa_key());
    EXPECT_NE(refusal(verifier, new_token), "");

    write(json::array(
        {keel_test::public_jwk(rsa_key(), "old"), keel_test::public_jwk(other_rsa_key(), "new")}));
    // The file is looked at again within a second or so (an unknown kid hurries it along);
    // 10 s leaves a loaded machine room.
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (refusal(verifier, new_token) != "" && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(50ms);
    EXPECT_EQ(refusal(verifier, new_token), "");

    // A broken file keeps the keys in use.
    std::ofstream(file) << "{ not json";
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(refusal(verifier, new_token), "");
    EXPECT_THROW(verifier.reload(), std::invalid_argument);
    EXPECT_EQ(refusal(verifier, new_token), "");
    std::filesystem::remove_all(dir);
}

TEST(JwtTest, KeysForOtherUsesInAJwkSetAreSkippedNotFatal) {
    // As Keycloak publishes them: an encryption key beside the signing key.
    auto encryption = keel_test::public_jwk(other_rsa_key(), "enc-1");
    encryption["use"] = "enc";
    encryption["alg"] = "RSA-OAEP";
    const json set = {
        {"keys", {encryption, keel_test::public_jwk(rsa_key(), "sig-1"), {{"kty", "OKP"}, {"kid", "ed"}}}}};
    const keel::jwt_verifier verifier({.key = set.dump()});
    EXPECT_EQ(refusal(verifier, mint({{"alg", "RS256"}, {"kid", "sig-1"}}, fresh_claims(), rsa_key())), "");
    EXPECT_NE(refusal(verifier, mint({{"alg", "RS256"}, {"kid", "enc-1"}}, fresh_claims(), other_rsa_key())),
              "");
    EXPECT_THROW(keel::jwt_verifier({.key = json{{"keys", {encryption}}}.dump()}), std::invalid_argument)
        << "no usable key at all";
}

TEST(JwtTest, AKeyFileThatTurnsIntoSomethingElseKeepsTheKeysInUse) {
    const auto dir = std::filesystem::temp_directory_path() / ("keel_jwt_turn_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto file = dir / "key.pem";
    std::ofstream(file) << keel_test::public_pem(rsa_key());
    keel::jwt_verifier verifier({.key_file = file.string(), .reload_interval = 10ms});
    const auto token = rs256(fresh_claims());
    EXPECT_EQ(refusal(verifier, token), "");
    // A sidecar wrote an error page (or any 32+ bytes) over the key: it must not become an
    // HS256 secret that anyone who can read the page can sign with.
    const std::string page = "an error page of some length, served instead of the key";
    std::ofstream(file) << page;
    std::this_thread::sleep_for(50ms);
    EXPECT_THROW(verifier.reload(), std::invalid_argument);
    EXPECT_EQ(refusal(verifier, token), "") << "the RSA key stays in use";
    EXPECT_NE(refusal(verifier, mint({{"alg", "HS256"}}, fresh_claims(), nullptr, page)), "");
    std::filesystem::remove_all(dir);
}

TEST(JwtTest, UnusableKeysAreRefusedAtConstruction) {
    EXPECT_THROW(keel::jwt_verifier({.key = "short secret"}), std::invalid_argument);
    EXPECT_THROW(keel::jwt_verifier({.key = keel_test::public_pem(keel_test::new_rsa_key(1024).get())}),
                 std::invalid_argument);
    EXPECT_THROW(keel::jwt_verifier({.key = keel_test::private_pem(rsa_key())}), std::invalid_argument);
    EXPECT_THROW(keel::jwt_verifier({.key = R"({"keys": [{"kty": "oct", "k": "c2hvcnQ"}]})"}),
                 std::invalid_argument);
    EXPECT_THROW(keel::jwt_verifier({.key = R"({"keys": []})"}), std::invalid_argument);
    EXPECT_THROW(keel::jwt_verifier({.key = "<html><body>502 Bad Gateway, try again later</body></html>"}),
                 std::invalid_argument);
    EXPECT_THROW(keel::jwt_verifier({.key_file = "/nonexistent/keel/jwt.pem"}), std::invalid_argument);
}

TEST(JwtTest, ScopesAre403WithoutAnd200With) {
    protected_app p(rsa_options());
    client c{p.app};
    const auto without =
        c.get("/admin", {{"Authorization", bearer(rs256(fresh_claims({{"scope", "read write"}})))}});
    EXPECT_EQ(without.status(), 403) << without;
    EXPECT_EQ(without.json(), (json{{"detail", "Not enough permissions"}}));
    EXPECT_EQ(p.reached, 0);
    const auto with =
        c.get("/admin", {{"Authorization", bearer(rs256(fresh_claims({{"scope", "read admin"}})))}});
    EXPECT_EQ(with.status(), 200) << with;
    const auto scp = c.get("/admin", {{"Authorization", bearer(rs256(fresh_claims({{"scp", {"admin"}}})))}});
    EXPECT_EQ(scp.status(), 200) << scp;
    EXPECT_EQ(c.get("/admin").status(), 401) << "no token is not authenticated, not forbidden";
}

TEST(JwtTest, AVerifierWithoutAKeyAnswers503NeverLettingARequestThrough) {
    keel::app app;
    app.provide<keel::jwt_verifier>(keel::scope::app, [] { return std::make_unique<keel::jwt_verifier>(); });
    int reached = 0;
    app.get("/me", [&](keel::depends<keel::bearer_jwt>) { return ++reached; });
    app.logger().set_level(keel::log_level::off);
    client c{app};
    EXPECT_EQ(c.get("/me", {{"Authorization", bearer(rs256(fresh_claims()))}}).status(), 503);
    EXPECT_EQ(c.get("/me").status(), 503);
    EXPECT_EQ(reached, 0);
}

TEST(JwtTest, ARouterRequiresItsDependencyOfEveryRouteItHolds) {
    keel::app app;
    app.provide<keel::jwt_verifier>(keel::scope::app,
                                    [] { return std::make_unique<keel::jwt_verifier>(rsa_options()); });
    keel::router inner{"/inner"};
    inner.get("/a", [] { return 1; });
    keel::router admin{"/admin"};
    admin.get("/before", [] { return 2; });  // added before depend_on: still guarded
    admin.depend_on<keel::require_scopes<"admin">>();
    admin.get("/after", [](keel::depends<keel::bearer_jwt> token) { return token->subject(); });
    admin.include(inner);
    app.include(admin);
    EXPECT_THROW(admin.depend_on<keel::bearer_jwt>(), std::logic_error) << "the app's copies would miss it";
    app.get("/open", [] { return 3; });
    app.logger().set_level(keel::log_level::off);
    client c{app};
    const keel::header_map user = {{"Authorization", bearer(rs256(fresh_claims()))}};
    const keel::header_map boss = {{"Authorization", bearer(rs256(fresh_claims({{"scope", "admin"}})))}};
    for (const auto* path : {"/admin/before", "/admin/after", "/admin/inner/a"}) {
        EXPECT_EQ(c.get(path).status(), 401) << path;
        EXPECT_EQ(c.get(path, user).status(), 403) << path;
        EXPECT_EQ(c.get(path, boss).status(), 200) << path;
    }
    EXPECT_EQ(c.get("/admin/after", boss).json(), "user-1")
        << "the router's and the handler's share one value";
    EXPECT_EQ(c.get("/open").status(), 200);
}

TEST(JwtTest, TheOpenApiDocumentDeclaresTheSchemeAndEachOperationsRequirement) {
    protected_app p(rsa_options());
    p.app.get("/public", [] { return 1; });
    const auto doc = json::parse(p.app.openapi_document());
    EXPECT_EQ(doc["components"]["securitySchemes"]["bearerAuth"],
              (json{{"type", "http"}, {"scheme", "bearer"}, {"bearerFormat", "JWT"}}));
    EXPECT_EQ(doc["paths"]["/me"]["get"]["security"], (json::array({{{"bearerAuth", json::array()}}})));
    EXPECT_EQ(doc["paths"]["/admin"]["get"]["security"], (json::array({{{"bearerAuth", {"admin"}}}})));
    EXPECT_TRUE(doc["paths"]["/me"]["get"]["responses"].contains("401"));
    EXPECT_FALSE(doc["paths"]["/me"]["get"]["responses"].contains("403"));
    EXPECT_TRUE(doc["paths"]["/admin"]["get"]["responses"].contains("403"));
    EXPECT_FALSE(doc["paths"]["/public"]["get"].contains("security"));
    EXPECT_FALSE(doc["paths"]["/me"]["get"].contains("parameters"))
        << "the Authorization header is the scheme's";
}

TEST(JwtTest, AnOverrideOfBearerJwtStandsInForTokensInHandlerTests) {
    protected_app p(rsa_options());
    client c{p.app};
    auto restore = c.override(
        keel::bearer_jwt, [] { return keel::jwt_claims::unverified(R"({"sub": "ada", "scope": "admin"})"); });
    const auto res = c.get("/admin");
    EXPECT_EQ(res.status(), 200) << res;
    EXPECT_EQ(res.json(), "ada");
}

TEST(JwtTest, UnverifiedClaimsStandInForATokenInTests) {
    const auto claims = keel::jwt_claims::unverified(R"({"sub": "ada", "scope": "a b", "tenant": 7})");
    EXPECT_EQ(claims.subject(), "ada");
    EXPECT_TRUE(claims.has_scope("b"));
    EXPECT_EQ(claims.payload()["tenant"], 7);
    EXPECT_THROW(keel::jwt_claims::unverified(R"({"sub": 5})"), std::invalid_argument);
}
