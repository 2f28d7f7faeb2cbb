// CORS, the protective response headers and rate limits, through the in-process client: what a
// browser and an abusive client would see.

#include <keel/cors.hpp>
#include <keel/rate_limit.hpp>
#include <keel/security_headers.hpp>

#include <gtest/gtest.h>
#include <keel/app.hpp>
#include <keel/testing/client.hpp>

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

using keel::testing::client;
using namespace std::chrono_literals;

namespace {

struct cors_app {
    explicit cors_app(keel::cors_options options) {
        app.use(keel::cors(std::move(options)));
        app.get("/data", [this] {
            ++reached;
            return 1;
        });
        app.post("/data", [this] {
            ++reached;
            return 2;
        });
    }
    keel::app app;
    int reached = 0;
};

keel::header_map preflight(std::string origin, std::string method, std::string headers = {}) {
    keel::header_map h{{"Origin", std::move(origin)}, {"Access-Control-Request-Method", std::move(method)}};
    if (!headers.empty()) h.set("Access-Control-Request-Headers", std::move(headers));
    return h;
}

}  // namespace

TEST(CorsTest, APreflightFromAnAllowedOriginIsAnsweredWithoutReachingTheHandler) {
    cors_app a({.allow_origins = {"https://app.example.com"},
                .allow_methods = {"GET", "POST"},
                .allow_headers = {"Authorization"},
                .max_age = 300s});
    client c{a.app};
    const auto res =
        c.options("/data", preflight("https://app.example.com", "POST", "authorization, content-type"));
    EXPECT_EQ(res.status(), 200) << res;
    EXPECT_EQ(res.header("Access-Control-Allow-Origin").value_or(""), "https://app.example.com");
    EXPECT_EQ(res.header("Access-Control-Allow-Methods").value_or(""), "GET, POST");
    EXPECT_NE(res.header("Access-Control-Allow-Headers").value_or("").find("Authorization"),
              std::string::npos);
    EXPECT_EQ(res.header("Access-Control-Max-Age").value_or(""), "300");
    EXPECT_EQ(res.header("Vary").value_or(""), "Origin");
    EXPECT_FALSE(res.header("Access-Control-Allow-Credentials"));
    EXPECT_EQ(a.reached, 0);
}

TEST(CorsTest, APreflightAskingForWhatIsNotAllowedIs400NamingIt) {
    cors_app a({.allow_origins = {"https://app.example.com"}, .allow_methods = {"GET"}});
    client c{a.app};
    const auto origin = c.options("/data", preflight("https://evil.example.com", "GET"));
    EXPECT_EQ(origin.status(), 400);
    EXPECT_EQ(origin.body(), "Disallowed CORS origin");
    EXPECT_FALSE(origin.header("Access-Control-Allow-Origin"));
    EXPECT_EQ(c.options("/data", preflight("https://app.example.com", "DELETE")).body(),
              "Disallowed CORS method");
    EXPECT_EQ(c.options("/data", preflight("https://app.example.com", "GET", "X-Secret")).body(),
              "Disallowed CORS headers");
    EXPECT_EQ(a.reached, 0);
}

TEST(CorsTest, AnActualRequestFromAnAllowedOriginMayBeReadAndOthersMayNot) {
    cors_app a({.allow_origins = {"https://app.example.com"},
                .allow_origin_pattern = R"(https://[a-z0-9-]+\.preview\.example\.com)",
                .expose_headers = {"X-Request-ID"},
                .allow_credentials = true});
    client c{a.app};
    const auto allowed = c.get("/data", {{"Origin", "https://app.example.com"}});
    EXPECT_EQ(allowed.status(), 200);
    EXPECT_EQ(allowed.header("Access-Control-Allow-Origin").value_or(""), "https://app.example.com");
    EXPECT_EQ(allowed.header("Access-Control-Allow-Credentials").value_or(""), "true");
    EXPECT_EQ(allowed.header("Access-Control-Expose-Headers").value_or(""), "X-Request-ID");
    const auto preview = c.get("/data", {{"Origin", "https://pr-42.preview.example.com"}});
    EXPECT_EQ(preview.header("Access-Control-Allow-Origin").value_or(""),
              "https://pr-42.preview.example.com");
    // The pattern matches whole origins only.
    const auto suffix = c.get("/data", {{"Origin", "https://pr-42.preview.example.com.evil.net"}});
    EXPECT_FALSE(suffix.header("Access-Control-Allow-Origin"));
    const auto other = c.get("/data", {{"Origin", "https://evil.example.com"}});
    EXPECT_EQ(other.status(), 200) << "served, but the browser will not let the page read it";
    EXPECT_FALSE(other.header("Access-Control-Allow-Origin"));
    const auto none = c.get("/data");
    EXPECT_FALSE(none.header("Access-Control-Allow-Origin")) << "no Origin, no CORS";
}

TEST(CorsTest, AnyOriginIsAStarWithoutCredentialsAndRefusedWithThem) {
    cors_app a({.allow_origins = {"*"}});
    client c{a.app};
    EXPECT_EQ(c.get("/data", {{"Origin", "https://anyone.example"}})
                  .header("Access-Control-Allow-Origin")
                  .value_or(""),
              "*");
    EXPECT_THROW(keel::cors({.allow_origins = {"*"}, .allow_credentials = true}), std::invalid_argument);
    EXPECT_THROW(keel::cors({.allow_origin_pattern = "(unclosed"}), std::invalid_argument);
}

TEST(SecurityHeadersTest, EveryAnswerGetsTheHeadersItDidNotSetItself) {
    keel::app app;
    app.use(keel::security_headers({.content_security_policy = "default-src 'self'"}));
    app.get("/", [] { return 1; });
    app.get("/framed", [] {
        keel::response res(keel::status::ok, "x", "text/plain");
        res.headers().set("X-Frame-Options", "SAMEORIGIN");
        return res;
    });
    client c{app};
    for (const auto* path : {"/", "/missing"}) {
        const auto res = c.get(path);
        EXPECT_EQ(res.header("X-Content-Type-Options").value_or(""), "nosniff") << path;
        EXPECT_EQ(res.header("Referrer-Policy").value_or(""), "strict-origin-when-cross-origin") << path;
        EXPECT_EQ(res.header("X-Frame-Options").value_or(""), "DENY") << path;
        EXPECT_EQ(res.header("Content-Security-Policy").value_or(""), "default-src 'self'") << path;
        EXPECT_FALSE(res.header("Strict-Transport-Security")) << "plain HTTP gets no HSTS";
    }
    EXPECT_EQ(c.get("/framed").header("X-Frame-Options").value_or(""), "SAMEORIGIN");
    keel::request secure;
    secure.set_target("/");
    secure.set_secure(true);
    EXPECT_EQ(c.send(std::move(secure)).header("Strict-Transport-Security").value_or(""), "max-age=31536000");
}

TEST(SecurityHeadersTest, TheDocsPageHasAPolicyThatAllowsSwaggerUiAndNoFraming) {
    keel::app app;
    app.get("/", [] { return 1; });
    client c{app};
    const auto page = c.get("/docs");
    const auto policy = page.header("Content-Security-Policy").value_or("");
    EXPECT_NE(policy.find("script-src 'self'"), std::string::npos) << policy;
    EXPECT_NE(policy.find("frame-ancestors 'none'"), std::string::npos) << policy;
    EXPECT_EQ(policy.find("unsafe-eval"), std::string::npos) << policy;
}

TEST(RateLimitTest, ABurstPassesThenA429WithRetryAfterThenRecovery) {
    keel::app app;
    app.use(keel::rate_limit({.rate = 20, .burst = 3, .key = [](const keel::request& req) {
                                  return std::string(req.header("X-Client").value_or(""));
                              }}));
    app.get("/", [] { return 1; });
    client c{app};
    const keel::header_map ada{{"X-Client", "ada"}}, bob{{"X-Client", "bob"}};
    for (int i = 0; i < 3; ++i) EXPECT_EQ(c.get("/", ada).status(), 200) << i;
    const auto limited = c.get("/", ada);
    EXPECT_EQ(limited.status(), 429);
    EXPECT_EQ(limited.header("Retry-After").value_or(""), "1");
    EXPECT_EQ(c.get("/", bob).status(), 200) << "each client has its own bucket";
    EXPECT_EQ(c.get("/").status(), 200) << "no key: not counted";
    // 20 a second: a token is back within 50 ms; 2 s leaves a loaded machine room.
    const auto deadline = std::chrono::steady_clock::now() + 2s;
    auto status = keel::status::too_many_requests;
    while (status == keel::status::too_many_requests && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(20ms);
        status = c.get("/", ada).status();
    }
    EXPECT_EQ(status, 200);
}

TEST(RateLimitTest, AFloodOfDistinctKeysKeepsMemoryBounded) {
    keel::rate_limiter limiter({.rate = 1, .burst = 1, .max_keys = 1000});
    for (int i = 0; i < 100'000; ++i) EXPECT_FALSE(limiter.take("client-" + std::to_string(i)));
    EXPECT_LE(limiter.size(), 1000U);
    EXPECT_GE(limiter.size(), 900U) << "the table is used, not emptied";
    EXPECT_TRUE(limiter.take("client-99999")) << "a recent key still has its (empty) bucket";
    EXPECT_THROW(keel::rate_limiter({.rate = 0}), std::invalid_argument);
}
