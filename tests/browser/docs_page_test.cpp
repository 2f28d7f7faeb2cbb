// The bank's /docs page in a real browser: Debian's headless Chromium, driven by Playwright
// (tools/docs-check), with every request beyond loopback refused: the page must work from the
// files keel serves itself.
#include "../support/run_command.hpp"
#include "../support/seeded_bank.hpp"

#include <gtest/gtest.h>
#include <keel/testing/live_server.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <string>
#include <vector>

TEST(DocsPage, ListsEveryOperationAndTryItOutCallsTheApi) {
    keel_test::seeded_bank bank("bank_docs");
    auto& app = bank.app;
    keel::testing::live_server server(app);

    // The script has its own 90 s deadline; CTest's timeout is the last resort.
    const auto [output, status] =
        keel_test::run_command("node " KEEL_DOCS_CHECK " http://127.0.0.1:" + std::to_string(server.port()) +
                               "/docs operations-users-get_user id 42");
    ASSERT_EQ(status, 0) << output;
    const auto seen = nlohmann::json::parse(output);

    const auto document = nlohmann::json::parse(app.openapi_document());
    const auto listed = seen["operations"].get<std::vector<std::string>>();
    std::size_t operations = 0;
    for (const auto& [path, item] : document["paths"].items()) {
        for (const auto& [method, op] : item.items()) {
            std::string shown = method + ' ' + path;
            std::transform(shown.begin(), shown.begin() + static_cast<long>(method.size()), shown.begin(),
                           [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
            EXPECT_NE(std::find(listed.begin(), listed.end(), shown), listed.end())
                << shown << " is not on the page";
            ++operations;
        }
    }
    EXPECT_EQ(listed.size(), operations) << output;
    EXPECT_GE(operations, 9U);

    EXPECT_EQ(seen["status"], "200") << output;
    EXPECT_NE(seen["body"].get<std::string>().find("user42@example.com"), std::string::npos) << output;
    EXPECT_TRUE(seen["outside"].empty()) << "the page asked beyond loopback: " << output;
    EXPECT_TRUE(seen["errors"].empty()) << "the page threw: " << output;
}
