// Behind a trusted proxy the client is who the proxy says, and the scheme what it says; from
// anyone else those headers are ignored, whatever they claim.

#include <keel/server.hpp>

#include <gtest/gtest.h>
#include <keel/app.hpp>
#include <keel/testing/http_client.hpp>
#include <keel/testing/live_server.hpp>

#include <stdexcept>
#include <string>

using keel::testing::http_client;
using keel::testing::live_server;

namespace {

// Answers what it was told of the client: "address scheme".
struct whoami_app {
    whoami_app() {
        app.get("/whoami", [](const keel::request& req) {
            return std::string(req.client_address()) + ' ' + std::string(req.scheme());
        });
    }
    keel::app app;
};

live_server serve(
    keel::app& app, std::vector<std::string> trusted,
    keel::server_options::forwarded_header from = keel::server_options::forwarded_header::x_forwarded_for) {
    auto options = live_server::quiet_options();
    options.forwarded_allow_ips = std::move(trusted);
    options.forwarded_from = from;
    return live_server(app, options);
}

}  // namespace

TEST(ServerForwardedTest, WithoutTrustedProxiesTheHeadersAreIgnored) {
    whoami_app w;
    auto server = serve(w.app, {});
    http_client http(server.port());
    EXPECT_EQ(http.get("/whoami").json(), "127.0.0.1 http");
    const auto spoofed = http.get("/whoami", {{"X-Forwarded-For", "203.0.113.9"},
                                              {"X-Forwarded-Proto", "https"},
                                              {"Forwarded", "for=198.51.100.1;proto=https"}});
    EXPECT_EQ(spoofed.json(), "127.0.0.1 http") << "a spoofed header from an untrusted peer";
}

TEST(ServerForwardedTest, AnUntrustedPeerIsNotBelievedEvenWhenProxiesAreConfigured) {
    whoami_app w;
    auto server = serve(w.app, {"10.0.0.0/8", "fd00::/8"});
    http_client http(server.port());
    EXPECT_EQ(http.get("/whoami", {{"X-Forwarded-For", "203.0.113.9"}}).json(), "127.0.0.1 http");
}

TEST(ServerForwardedTest, ATrustedProxyNamesTheClientAndTheScheme) {
    whoami_app w;
    auto server = serve(w.app, {"127.0.0.1", "10.0.0.0/8"});
    http_client http(server.port());
    EXPECT_EQ(
        http.get("/whoami", {{"X-Forwarded-For", "203.0.113.9"}, {"X-Forwarded-Proto", "https"}}).json(),
        "203.0.113.9 https");
    // The client may have sent its own X-Forwarded-For: the nearest untrusted hop is the client.
    EXPECT_EQ(http.get("/whoami", {{"X-Forwarded-For", "6.6.6.6, 203.0.113.9, 10.1.2.3"}}).json(),
              "203.0.113.9 http");
    EXPECT_EQ(http.get("/whoami", {{"X-Forwarded-For", "not-an-address"}}).json(), "127.0.0.1 http");
    EXPECT_EQ(http.get("/whoami").json(), "127.0.0.1 http") << "no header: the proxy itself";
    // The proxy writes X-Forwarded-For and passes the client's Forwarded through: not believed.
    EXPECT_EQ(http.get("/whoami", {{"Forwarded", "for=198.51.100.7;proto=https"}}).json(), "127.0.0.1 http");
}

TEST(ServerForwardedTest, BehindAProxyThatWritesForwardedOnlyThatHeaderCounts) {
    whoami_app w;
    auto server = serve(w.app, {"127.0.0.1"}, keel::server_options::forwarded_header::forwarded);
    http_client http(server.port());
    EXPECT_EQ(
        http.get("/whoami", {{"Forwarded", R"(for=198.51.100.1, for="[2001:db8::1]:4711";proto=https)"}})
            .json(),
        "2001:db8::1 https");
    // The scheme is the nearest proxy's: a client's own element further out says nothing.
    EXPECT_EQ(http.get("/whoami", {{"Forwarded", "for=1.1.1.1;proto=https, for=198.51.100.1"}}).json(),
              "198.51.100.1 http");
    EXPECT_EQ(http.get("/whoami", {{"X-Forwarded-For", "203.0.113.9"}}).json(), "127.0.0.1 http");
}

TEST(ServerForwardedTest, AnEntryThatIsNoAddressStopsTheServerFromStarting) {
    whoami_app w;
    auto options = live_server::quiet_options();
    options.forwarded_allow_ips = {"10.0.0.0/33"};
    EXPECT_THROW(keel::server(w.app, options), std::invalid_argument);
}
