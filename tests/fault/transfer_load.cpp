#include "transfer_load.hpp"

#include <keel/testing/http_client.hpp>

#include <algorithm>
#include <optional>
#include <random>

namespace keel_fault {

using namespace std::chrono_literals;

transfer_load::transfer_load(unsigned short port, int clients, int accounts)
    : port_(port), accounts_(accounts) {
    for (int i = 0; i < clients; ++i) threads_.emplace_back([this, i] { client(i); });
}

transfer_load::~transfer_load() {
    stop();
}

load_outcome transfer_load::stop() {
    stopping_ = true;
    for (auto& t : threads_) {
        if (t.joinable()) t.join();
    }
    std::lock_guard lock(mutex_);
    return outcome_;
}

void transfer_load::client(int seed) {
    std::mt19937 random(static_cast<unsigned>(seed) * 7919u + 1);
    std::uniform_int_distribution<int> account(1, accounts_), amount(1, 300);
    load_outcome mine;
    std::optional<keel::testing::http_client> http;
    while (!stopping_) {
        if (!http) http.emplace(port_, 10s);  // an answer slower than this is a hang: counted unknown
        const auto started = std::chrono::steady_clock::now();
        try {
            const auto res = http->post(
                "/transfers",
                {{"from_id", account(random)}, {"to_id", account(random)}, {"amount", amount(random)}});
            mine.slowest = std::max(mine.slowest, std::chrono::duration_cast<std::chrono::milliseconds>(
                                                      std::chrono::steady_clock::now() - started));
            ++answered_;
            switch (keel::to_int(res.status())) {
                case 201:
                    mine.acknowledged.push_back(res.json().at("id").get<std::int64_t>());
                    ++acknowledged_;
                    break;
                case 409:
                    ++mine.refused;
                    break;
                case 503:
                    ++mine.unavailable;
                    break;
                case 500:  // the connection broke during COMMIT: the only 500 a transfer may get
                    if (!res.header("Retry-After") &&
                        res.body().find("outcome is unknown") != std::string::npos) {
                        ++mine.in_doubt;
                    } else {
                        ++mine.other;
                    }
                    break;
                default:
                    ++mine.other;
                    break;
            }
        } catch (const std::exception&) {
            ++mine.unknown;  // the server went away mid-request (or refused the connection)
            http.reset();
            std::this_thread::sleep_for(10ms);
        }
    }
    std::lock_guard lock(mutex_);
    outcome_.acknowledged.insert(outcome_.acknowledged.end(), mine.acknowledged.begin(),
                                 mine.acknowledged.end());
    outcome_.refused += mine.refused;
    outcome_.unavailable += mine.unavailable;
    outcome_.unknown += mine.unknown;
    outcome_.in_doubt += mine.in_doubt;
    outcome_.other += mine.other;
    outcome_.slowest = std::max(outcome_.slowest, mine.slowest);
}

}  // namespace keel_fault
