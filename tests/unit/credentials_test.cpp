// API keys and HTTP Basic: a wrong, missing or ambiguous credential is a 401 that never reaches
// the handler and says nothing about what was wrong; the right one reaches it with its holder.

#include <keel/api_key.hpp>
#include <keel/http_basic.hpp>

#include "../support/jwt_minter.hpp"  // base64url, for a Basic header's base64

#include <gtest/gtest.h>
#include <keel/app.hpp>
#include <keel/password_store.hpp>
#include <keel/testing/client.hpp>

#include <openssl/evp.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

using keel::testing::client;
using nlohmann::json;

namespace {

const std::string billing_key = "k3el-live-9f8e7d6c5b4a39281706f5e4d3c2b1a0";

std::string sha256_hex(std::string_view text) {
    unsigned char digest[32];
    unsigned int length = 0;
    EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr);
    std::string out;
    for (unsigned i = 0; i < length; ++i) {
        static constexpr char hex[] = "0123456789abcdef";
        out += hex[digest[i] >> 4];
        out += hex[digest[i] & 15];
    }
    return out;
}

// Standard base64 with padding, from the base64url the minter writes.
std::string base64(std::string_view bytes) {
    auto out = keel_test::base64url(bytes);
    for (auto& c : out) c = c == '-' ? '+' : c == '_' ? '/' : c;
    while (out.size() % 4 != 0) out += '=';
    return out;
}

// Cheap argon2 costs: the tests check behaviour, not strength (sanitizer builds are slow).
constexpr keel::argon2_costs test_costs{.memory_kib = 1024, .iterations = 1, .parallelism = 1};

struct keyed_app {
    keyed_app() {
        app.provide<keel::api_key_store>(keel::scope::app, [] {
            keel::api_key_store keys;
            keys.add_hash("billing", sha256_hex(billing_key));
            keys.add_key("reports", "another-key-for-the-reports-service");
            return keys;
        });
        app.get("/header", [this](keel::depends<keel::api_key<"X-API-Key">> caller) {
            ++reached;
            return caller->id;
        });
        app.get("/query", [this](keel::depends<keel::api_key<"api_key", keel::api_key_in::query>> caller) {
            ++reached;
            return caller->id;
        });
        app.get("/cookie",
                [this](keel::depends<keel::api_key<"session_key", keel::api_key_in::cookie>> caller) {
                    ++reached;
                    return caller->id;
                });
        app.logger().set_level(keel::log_level::off);
    }
    keel::app app;
    int reached = 0;
};

}  // namespace

TEST(ApiKeyTest, TheRightKeyReachesTheHandlerWithItsHoldersId) {
    keyed_app k;
    client c{k.app};
    EXPECT_EQ(c.get("/header", {{"X-API-Key", billing_key}}).json(), "billing");
    EXPECT_EQ(c.get("/header", {{"x-api-key", "another-key-for-the-reports-service"}}).json(), "reports");
    EXPECT_EQ(c.get("/query?api_key=" + billing_key).json(), "billing");
    EXPECT_EQ(c.get("/cookie", {{"Cookie", "theme=dark; session_key=" + billing_key + "; lang=en"}}).json(),
              "billing");
    EXPECT_EQ(k.reached, 4);
}

TEST(ApiKeyTest, AWrongMissingOrAmbiguousKeyIsA401ThatNeverReachesTheHandler) {
    keyed_app k;
    client c{k.app};
    auto last_byte_differs = billing_key;
    last_byte_differs.back() = last_byte_differs.back() == '0' ? '1' : '0';
    const std::vector<std::pair<std::string, keel::header_map>> attempts = {
        {"/header", {}},
        {"/header", {{"X-API-Key", last_byte_differs}}},
        {"/header", {{"X-API-Key", billing_key.substr(0, billing_key.size() - 1)}}},
        {"/header", {{"X-API-Key", billing_key + "x"}}},
        {"/header", {{"X-API-Key", ""}}},
        {"/header", {{"X-API-Key", billing_key}, {"X-API-Key", last_byte_differs}}},
        {"/header", {{"X-API-Key", sha256_hex(billing_key)}}},  // the stored digest is no key
        {"/query?api_key=" + last_byte_differs, {}},
        {"/query?api_key=" + billing_key + "&api_key=" + billing_key, {}},
        {"/header?api_key=" + billing_key, {}},  // a key in the wrong place
        {"/cookie", {{"Cookie", "session_key=" + last_byte_differs}}},
        {"/cookie", {{"Cookie", "session_key=" + billing_key + "; session_key=" + last_byte_differs}}},
        {"/cookie", {{"X-API-Key", billing_key}}},
    };
    for (const auto& [target, headers] : attempts) {
        const auto res = c.get(target, headers);
        EXPECT_EQ(res.status(), 401) << target << ": " << res;
        EXPECT_EQ(res.header("WWW-Authenticate").value_or(""), "APIKey") << target;
        EXPECT_EQ(res.json(), (json{{"detail", "Not authenticated"}})) << target;
    }
    EXPECT_EQ(k.reached, 0);
}

TEST(ApiKeyTest, TheStoreReadsDigestsFromAFileAndRefusesAnythingElse) {
    const auto file = std::filesystem::temp_directory_path() / ("keel_keys_" + std::to_string(::getpid()));
    std::ofstream(file) << "# id sha256\n\nbilling " << sha256_hex(billing_key) << "\n";
    const auto keys = keel::api_key_store::from_file(file.string());
    EXPECT_EQ(keys.identify(billing_key), "billing");
    EXPECT_EQ(keys.identify("nope"), std::nullopt);
    std::ofstream(file) << "billing " << billing_key << "\n";  // a key in clear, not its digest
    EXPECT_THROW(keel::api_key_store::from_file(file.string()), std::invalid_argument);
    std::filesystem::remove(file);
}

TEST(ApiKeyTest, TheOpenApiDocumentDeclaresAnApiKeySchemeForEachPlace) {
    keyed_app k;
    const auto doc = json::parse(k.app.openapi_document());
    const auto& schemes = doc["components"]["securitySchemes"];
    EXPECT_EQ(schemes["X-API-Key"], (json{{"type", "apiKey"}, {"in", "header"}, {"name", "X-API-Key"}}));
    EXPECT_EQ(schemes["api_key"], (json{{"type", "apiKey"}, {"in", "query"}, {"name", "api_key"}}));
    EXPECT_EQ(schemes["session_key"], (json{{"type", "apiKey"}, {"in", "cookie"}, {"name", "session_key"}}));
    EXPECT_EQ(doc["paths"]["/query"]["get"]["security"], (json::array({{{"api_key", json::array()}}})));
    EXPECT_FALSE(doc["paths"]["/query"]["get"].contains("parameters"));
}

namespace {

struct basic_app {
    basic_app() {
        app.provide<keel::password_store>(keel::scope::app, [] {
            keel::password_store users;
            users.add_password("ada", "correct horse battery staple", test_costs);
            users.add_hash("grace", keel::password_store::hash("hopper:1906", test_costs));
            return users;
        });
        app.get("/ops", [this](keel::depends<keel::http_basic> who) {
            ++reached;
            return who->username;
        });
        app.logger().set_level(keel::log_level::off);
    }
    keel::app app;
    int reached = 0;
};

keel::header_map basic(std::string_view user_and_password) {
    return {{"Authorization", "Basic " + base64(user_and_password)}};
}

}  // namespace

TEST(HttpBasicTest, TheRightPasswordReachesTheHandlerWithTheUser) {
    basic_app b;
    client c{b.app};
    EXPECT_EQ(c.get("/ops", basic("ada:correct horse battery staple")).json(), "ada");
    EXPECT_EQ(c.get("/ops", basic("grace:hopper:1906")).json(), "grace") << "a password may hold ':'";
    EXPECT_EQ(
        c.get("/ops", {{"Authorization", "basic " + base64("ada:correct horse battery staple")}}).status(),
        200);
}

TEST(HttpBasicTest, AWrongUnknownOrMalformedCredentialIsA401WithTheBasicChallenge) {
    basic_app b;
    client c{b.app};
    for (const auto& headers : std::vector<keel::header_map>{
             {},
             basic("ada:correct horse battery stapler"),
             basic("ada:"),
             basic("nobody:correct horse battery staple"),
             basic("ada"),
             {{"Authorization", "Basic !!!!"}},
             {{"Authorization", "Basic " + keel_test::base64url("ada:correct horse battery staple")}},
             {{"Authorization", "Bearer " + base64("ada:correct horse battery staple")}},
         }) {
        const auto res = c.get("/ops", headers);
        EXPECT_EQ(res.status(), 401) << res;
        EXPECT_EQ(res.header("WWW-Authenticate").value_or(""), R"(Basic realm="keel", charset="UTF-8")");
        EXPECT_EQ(res.json(), (json{{"detail", "Not authenticated"}}));
    }
    EXPECT_EQ(b.reached, 0);
}

TEST(HttpBasicTest, StoredHashesAreArgon2AndCheckedAtLoad) {
    const auto phc = keel::password_store::hash("secret", test_costs);
    EXPECT_TRUE(phc.starts_with("$argon2id$v=19$m=1024,t=1,p=1$")) << phc;
    keel::password_store users;
    EXPECT_THROW(users.add_hash("ada", "plain-text-password"), std::invalid_argument);
    EXPECT_THROW(users.add_hash("ada", "$argon2id$v=19$m=1024,t=1,p=1$broken"), std::invalid_argument);
    EXPECT_THROW(users.add_hash("a:b", phc), std::invalid_argument);
    users.add_hash("ada", phc);
    EXPECT_THROW(users.add_hash("ada", phc), std::invalid_argument);
    EXPECT_TRUE(users.verify("ada", "secret"));
    EXPECT_FALSE(users.verify("ada", "Secret"));
    EXPECT_FALSE(users.verify("bob", "secret"));

    const auto file = std::filesystem::temp_directory_path() / ("keel_users_" + std::to_string(::getpid()));
    std::ofstream(file) << "# operators\nada:" << phc << "\n";
    EXPECT_TRUE(keel::password_store::from_file(file.string()).verify("ada", "secret"));
    std::filesystem::remove(file);
}

TEST(HttpBasicTest, TheOpenApiDocumentDeclaresTheBasicScheme) {
    basic_app b;
    const auto doc = json::parse(b.app.openapi_document());
    EXPECT_EQ(doc["components"]["securitySchemes"]["basicAuth"],
              (json{{"type", "http"}, {"scheme", "basic"}}));
    EXPECT_EQ(doc["paths"]["/ops"]["get"]["security"], (json::array({{{"basicAuth", json::array()}}})));
}
