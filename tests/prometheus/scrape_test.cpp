// The bank's metrics as a real Prometheus (Debian's `prometheus`) sees them: started by the test
// on loopback, it scrapes the bank's metrics port every second; after a known load its query
// API must count the requests by route template and status, and hold a latency histogram.
// `promtool check metrics` must accept the page as well.
#include "../support/seeded_bank.hpp"

#include <gtest/gtest.h>
#include <keel/testing/http_client.hpp>
#include <keel/testing/live_server.hpp>
#include <keel/testing/ports.hpp>
#include <nlohmann/json.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using keel::testing::http_client;

namespace {

// A child process, stopped (SIGTERM, then SIGKILL) and reaped when this goes away.
class child_process {
public:
    explicit child_process(std::vector<std::string> argv) {
        std::vector<char*> args;
        for (auto& a : argv) args.push_back(a.data());
        args.push_back(nullptr);
        pid_ = ::fork();
        if (pid_ == 0) {
            ::execvp(args[0], args.data());
            std::_Exit(127);
        }
    }
    ~child_process() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGTERM);
        for (int i = 0; i < 100; ++i) {
            if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
            std::this_thread::sleep_for(50ms);
        }
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

private:
    pid_t pid_ = -1;
};

std::string url_encoded(std::string_view text) {
    static constexpr std::string_view digits = "0123456789ABCDEF";
    std::string out;
    for (const unsigned char c : text) {
        if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += digits[c >> 4U];
            out += digits[c & 0xFU];
        }
    }
    return out;
}

// The value of a PromQL query's single sample, when it has exactly one.
std::optional<double> query(unsigned short port, const std::string& promql) {
    try {
        const auto res = http_client(port, 5s).get("/api/v1/query?query=" + url_encoded(promql));
        if (res.status() != 200) return std::nullopt;
        const auto answer = nlohmann::json::parse(res.text());
        const auto& result = answer["data"]["result"];
        if (result.size() != 1) return std::nullopt;
        return std::stod(result[0]["value"][1].get<std::string>());
    } catch (const std::exception&) {
        return std::nullopt;  // not up yet
    }
}

// Polls `promql` until it equals `expected` (a scrape every second) or the deadline passes.
std::optional<double> await_value(unsigned short port, const std::string& promql, double expected) {
    std::optional<double> seen;
    for (const auto deadline = std::chrono::steady_clock::now() + 60s;
         std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(250ms)) {
        seen = query(port, promql);
        if (seen == expected) break;
    }
    return seen;
}

}  // namespace

TEST(Prometheus, ScrapesTheBankAndCountsRequestsByRouteAndStatus) {
    keel_test::seeded_bank bank("bank_metrics");
    auto& app = bank.app;
    auto options = keel::testing::live_server::quiet_options();
    options.metrics_port = 0;
    keel::testing::live_server server(app, options);
    const auto metrics_port = server.server().metrics_port();

    // The page as promtool reads it.
    const auto dir =
        std::filesystem::temp_directory_path() / ("keel_prometheus_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    {
        std::ofstream page(dir / "page.txt");
        http_client(server.port()).get("/users/1");  // a histogram with a sample in it
        page << http_client(metrics_port).get("/metrics").text();
    }
    const auto promtool = "promtool check metrics < " + (dir / "page.txt").string() + " 2>&1";
    EXPECT_EQ(std::system(promtool.c_str()), 0) << "promtool refused the page";

    const auto prometheus_port = keel::testing::free_loopback_port();
    {
        std::ofstream config(dir / "prometheus.yml");
        config << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
               << "scrape_configs:\n  - job_name: bank\n    static_configs:\n      - targets: ['127.0.0.1:"
               << metrics_port << "']\n";
    }
    child_process prometheus({"prometheus", "--config.file=" + (dir / "prometheus.yml").string(),
                              "--storage.tsdb.path=" + (dir / "data").string(),
                              "--web.listen-address=127.0.0.1:" + std::to_string(prometheus_port),
                              "--log.level=warn"});
    // Prometheus is up and has scraped the bank once (the job's `up` is 1).
    ASSERT_EQ(await_value(prometheus_port, R"(up{job="bank"})", 1), 1)
        << "Prometheus did not scrape the bank";

    http_client c(server.port());
    for (int id = 2; id <= 20; ++id) ASSERT_EQ(c.get("/users/" + std::to_string(id)).status(), 200);
    for (int i = 0; i < 5; ++i) ASSERT_EQ(c.get("/users/99999").status(), 404);
    for (int i = 0; i < 3; ++i) ASSERT_EQ(c.get("/users/abc").status(), 422);
    for (int i = 0; i < 4; ++i) ASSERT_EQ(c.get("/no/such/path").status(), 404);

    const std::string route = R"(job="bank",method="GET",route="/users/{id}")";
    EXPECT_EQ(await_value(prometheus_port, "keel_http_requests_total{" + route + R"(,status="200"})", 20),
              20);
    EXPECT_EQ(await_value(prometheus_port, "keel_http_requests_total{" + route + R"(,status="404"})", 5), 5);
    EXPECT_EQ(await_value(prometheus_port, "keel_http_requests_total{" + route + R"(,status="422"})", 3), 3);
    EXPECT_EQ(await_value(prometheus_port,
                          R"(keel_http_requests_total{job="bank",route="unmatched",status="404"})", 4),
              4);
    EXPECT_EQ(await_value(prometheus_port, "keel_http_request_duration_seconds_count{" + route + "}", 28),
              28);
    const auto median = query(
        prometheus_port, "histogram_quantile(0.5, keel_http_request_duration_seconds_bucket{" + route + "})");
    ASSERT_TRUE(median.has_value());
    EXPECT_GT(*median, 0);
    EXPECT_LT(*median, 10) << "within the buckets";
    EXPECT_GT(query(prometheus_port, R"(process_resident_memory_bytes{job="bank"})").value_or(0), 0);
    EXPECT_GE(
        query(prometheus_port, R"(keel_db_transactions_total{job="bank",outcome="committed"})").value_or(0),
        19)
        << "the database's part of the page: each GET /users/{id} that found its user committed";

    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
}
