// CORS in a real browser: a page on one loopback port fetch()es an API on another, through
// Debian's headless Chromium (tools/docs-check/cross-origin-fetch.mjs). What the page may read,
// and whether a refused preflight's request ever reached the handler, are the browser's doing.

#include <keel/cors.hpp>

#include "../support/run_command.hpp"

#include <gtest/gtest.h>
#include <keel/app.hpp>
#include <keel/testing/live_server.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <string>

namespace {

// An API that lets the origin `allowed` in, and counts the requests its handlers saw.
struct api {
    explicit api(const std::string& allowed) {
        app.use(keel::cors({.allow_origins = {allowed},
                            .allow_methods = {"GET", "POST"},
                            .allow_headers = {"Authorization"}}));
        app.get("/data", [this] {
            ++reached;
            return std::string("secret data");
        });
        app.post("/data", [this] {
            ++reached;
            return std::string("written");
        });
        app.logger().set_level(keel::log_level::off);
    }
    keel::app app;
    std::atomic<int> reached{0};
};

std::string origin(unsigned short port) {
    return "http://127.0.0.1:" + std::to_string(port);
}

}  // namespace

TEST(CorsInABrowser, ThePageReadsTheAllowedApiAndNotTheOther) {
    keel::app site;
    site.get("/", [] {
        return keel::response(keel::status::ok, "<!doctype html><title>page</title>", "text/html");
    });
    site.logger().set_level(keel::log_level::off);
    keel::testing::live_server page(site);
    const auto page_origin = origin(page.port());

    api open(page_origin), closed("http://127.0.0.1:1");
    keel::testing::live_server open_server(open.app), closed_server(closed.app);
    const auto open_url = origin(open_server.port()) + "/data";
    const auto closed_url = origin(closed_server.port()) + "/data";

    for (const std::string method : {"GET", "POST"}) {
        const auto [output, status] = keel_test::run_command(
            "node " KEEL_CORS_CHECK " " + page_origin + "/ " + method + ' ' + open_url + ' ' + closed_url);
        ASSERT_EQ(status, 0) << output;
        const auto seen = nlohmann::json::parse(output);
        EXPECT_EQ(seen[open_url]["ok"], true) << method << ": " << output;
        EXPECT_EQ(seen[open_url]["status"], 200) << method << ": " << output;
        EXPECT_EQ(seen[closed_url]["ok"], false) << method << ": the page read what CORS refused: " << output;
    }
    EXPECT_EQ(open.reached, 2);
    // The refused GET is sent (a simple request) but not readable; the refused POST's preflight
    // fails, so the browser never sends it: the handler saw one request, not two.
    EXPECT_EQ(closed.reached, 1);
}
