// HTTPS: certificates made by the openssl CLI for each test, and real clients (curl, Python's
// ssl, openssl s_client) on the other end. What is not TLS, or never finishes its handshake, is
// cut off; a renewed certificate serves new connections without a restart.

#include <keel/server.hpp>

#include "../support/run_command.hpp"
#include "raw_client.hpp"

#include <gtest/gtest.h>
#include <keel/app.hpp>
#include <keel/testing/live_server.hpp>

#include <unistd.h>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>

using keel::testing::live_server;
using keel_test::raw_client;
using namespace std::chrono_literals;

namespace {

// Through bash, with what it says on stderr too: the tests show it when a client fails.
std::pair<std::string, int> run(const std::string& command) {
    return keel_test::run_command("bash -c '" + command + "' 2>&1");
}

// A CA, and a server certificate for 127.0.0.1 and localhost that it signed, in a directory
// of the test's own; `issue` makes another (the renewal) in place.
class test_pki {
public:
    test_pki() : dir_(std::filesystem::temp_directory_path() / ("keel_tls_" + std::to_string(::getpid()))) {
        std::filesystem::create_directories(dir_);
        const auto [out, status] =
            run("cd " + dir_.string() +
                " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key "
                "-out ca.pem -days 2 -subj /CN=keel-test-ca");
        if (status != 0) throw std::runtime_error("openssl: " + out);
        issue("first");
    }
    ~test_pki() { std::filesystem::remove_all(dir_); }

    // Replaces server.pem and server.key with a new pair whose subject is CN=<name>, each file
    // moved into place at once, as certbot's deploy would.
    void issue(const std::string& name) {
        const auto [out, status] =
            run("cd " + dir_.string() +
                " && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout next.key -out "
                "next.csr "
                "-subj /CN=" +
                name +
                " && printf \"subjectAltName=IP:127.0.0.1,DNS:localhost\" > san.ext"
                " && openssl x509 -req -in next.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out next.pem "
                "-days 2 "
                "-extfile san.ext && mv next.key server.key && mv next.pem server.pem");
        if (status != 0) throw std::runtime_error("openssl: " + out);
    }

    std::string file(const char* name) const { return (dir_ / name).string(); }

private:
    std::filesystem::path dir_;
};

keel::server_options tls_options(const test_pki& pki) {
    auto options = live_server::quiet_options();
    options.tls_certificate_file = pki.file("server.pem");
    options.tls_key_file = pki.file("server.key");
    return options;
}

struct hello_app {
    hello_app() {
        app.get("/hello", [](const keel::request& req) { return "hello over " + std::string(req.scheme()); });
    }
    keel::app app;
};

std::string url(unsigned short port, const char* path = "/hello") {
    return "https://127.0.0.1:" + std::to_string(port) + path;
}

}  // namespace

TEST(ServerTlsTest, CurlAndPythonWithTheCaGetThrough) {
    test_pki pki;
    hello_app h;
    live_server server(h.app, tls_options(pki));
    const auto port = server.server().tls_port();
    ASSERT_EQ(port, server.port()) << "without tls_port, the main port speaks TLS";

    const auto [body, curl] = run("curl -sS --fail --cacert " + pki.file("ca.pem") + " " + url(port));
    EXPECT_EQ(curl, 0) << body;
    EXPECT_EQ(body, "\"hello over https\"");

    const auto [python, status] =
        run("python3 -c \"import ssl, urllib.request; ctx = ssl.create_default_context(cafile=\\\"" +
            pki.file("ca.pem") + "\\\"); print(urllib.request.urlopen(\\\"" + url(port) +
            "\\\", context=ctx).read().decode())\"");
    EXPECT_EQ(status, 0) << python;
    EXPECT_EQ(python, "\"hello over https\"\n");

    // Without the CA the certificate is not trusted: it is real TLS with the test's certificate.
    const auto [untrusted, refused] = run("curl -sS " + url(port));
    EXPECT_NE(refused, 0) << untrusted;
}

TEST(ServerTlsTest, OnlyTls12AndLaterAreSpoken) {
    test_pki pki;
    hello_app h;
    live_server server(h.app, tls_options(pki));
    const auto target = " -connect 127.0.0.1:" + std::to_string(server.server().tls_port());
    // The client is allowed TLS 1.1 (security level 0); the server still refuses it.
    const auto [old, refused] =
        run("openssl s_client -tls1_1 -cipher DEFAULT@SECLEVEL=0" + target + " < /dev/null");
    EXPECT_NE(refused, 0) << old;
    // Refused by the server (its protocol_version alert), not by a client unable to try.
    EXPECT_NE(old.find("alert protocol version"), std::string::npos) << old;
    for (const char* version : {"-tls1_2", "-tls1_3"}) {
        const auto [out, status] = run(std::string("openssl s_client ") + version + " -CAfile " +
                                       pki.file("ca.pem") + target + " < /dev/null");
        EXPECT_EQ(status, 0) << version << ": " << out;
        EXPECT_NE(out.find("Verify return code: 0 (ok)"), std::string::npos) << version << ": " << out;
    }
}

TEST(ServerTlsTest, PlainHttpAndAStalledHandshakeAreCutOff) {
    test_pki pki;
    hello_app h;
    auto options = tls_options(pki);
    options.header_timeout = 500ms;
    live_server server(h.app, options);
    const auto port = server.server().tls_port();

    raw_client plain(port);
    plain.send(keel_test::get_request("/hello"));
    EXPECT_FALSE(plain.read_response(5s)) << "plain HTTP on the TLS port got an HTTP answer";
    EXPECT_TRUE(plain.closed_within(5s));

    raw_client silent(port);  // connects and never says hello
    // Closed by the header timeout (500 ms); 5 s leaves a loaded machine room.
    EXPECT_TRUE(silent.closed_within(5s)) << "a handshake that never started kept its connection";

    const auto [body, curl] = run("curl -sS --fail --cacert " + pki.file("ca.pem") + " " + url(port));
    EXPECT_EQ(curl, 0) << "the server serves on: " << body;
}

TEST(ServerTlsTest, ARenewedCertificateServesNewConnectionsWithoutARestart) {
    test_pki pki;
    hello_app h;
    live_server server(h.app, tls_options(pki));
    const auto subject = [&] {
        return run("openssl s_client -CAfile " + pki.file("ca.pem") +
                   " -connect 127.0.0.1:" + std::to_string(server.server().tls_port()) +
                   " < /dev/null 2>/dev/null | openssl x509 -noout -subject")
            .first;
    };
    EXPECT_NE(subject().find("CN = first"), std::string::npos) << subject();
    pki.issue("renewed");
    // The files are looked at about once a second; 10 s leaves a loaded machine room.
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    std::string seen = subject();
    while (seen.find("CN = renewed") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(200ms);
        seen = subject();
    }
    EXPECT_NE(seen.find("CN = renewed"), std::string::npos) << seen;
}

TEST(ServerTlsTest, HttpAndHttpsSideBySide) {
    test_pki pki;
    hello_app h;
    auto options = tls_options(pki);
    options.tls_port = 0;
    live_server server(h.app, options);
    ASSERT_NE(server.server().tls_port(), server.port());
    const auto [https, tls_status] =
        run("curl -sS --fail --cacert " + pki.file("ca.pem") + " " + url(server.server().tls_port()));
    EXPECT_EQ(https, "\"hello over https\"");
    const auto [http, plain_status] =
        run("curl -sS --fail http://127.0.0.1:" + std::to_string(server.port()) + "/hello");
    EXPECT_EQ(http, "\"hello over http\"");
}

TEST(ServerTlsTest, AKeyThatIsNotTheCertificatesStopsTheStart) {
    test_pki pki;
    hello_app h;
    auto options = tls_options(pki);
    options.tls_key_file = pki.file("ca.key");
    EXPECT_THROW(keel::server(h.app, options), std::invalid_argument);
    options.tls_key_file.clear();
    EXPECT_THROW(keel::server(h.app, options), std::invalid_argument);
}
