// Dependencies under the real server: many connections at once, plain handlers on the worker
// pool, teardowns before the answer. Run under TSan by scripts/test.

#include <keel/server.hpp>

#include "raw_client.hpp"

#include <gtest/gtest.h>
#include <keel/app.hpp>
#include <keel/async_yield.hpp>
#include <keel/depends.hpp>
#include <keel/http_error.hpp>
#include <keel/testing/live_server.hpp>
#include <keel/yield.hpp>

#include <atomic>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

using keel::testing::live_server;
using keel_test::get_request;
using keel_test::raw_client;
using namespace std::chrono_literals;

namespace {
std::atomic<int> open_resources{0};
std::atomic<int> closed_resources{0};
std::mutex torn_down_mutex;
std::set<int> torn_down;  // ids of the resources whose teardown has run

void record_teardown(int id) {
    std::lock_guard lock(torn_down_mutex);
    torn_down.insert(id);
}
bool was_torn_down(int id) {
    std::lock_guard lock(torn_down_mutex);
    return torn_down.count(id) == 1;
}

struct resource {
    int id;
};
keel::yield<resource> acquire() {
    static std::atomic<int> next{0};
    ++open_resources;
    resource r{++next};
    try {
        co_yield r;
    } catch (...) {
        --open_resources;
        ++closed_resources;
        record_teardown(r.id);
        throw;
    }
    --open_resources;
    ++closed_resources;
    record_teardown(r.id);
}
using resource_dep = keel::depends<acquire>;

struct config {
    std::string name = "cfg";
};
}  // namespace

TEST(ServerDependenciesTest, ConcurrentRequestsEachGetTheirOwnTornDownResource) {
    keel::app app;
    std::atomic<int> configs_made{0};
    app.provide<config>(keel::scope::app, [&] {
        ++configs_made;
        return config{};
    });
    app.get("/work/{n}", [](keel::path<int> n, resource_dep a, resource_dep b, config& c) {
        if (a->id != b->id) throw std::logic_error("two instances in one request");
        if (*n % 7 == 0) throw keel::http_error(keel::status::conflict, std::to_string(a->id));
        return c.name + ":" + std::to_string(a->id);
    });
    live_server server(app);

    constexpr int clients = 8, per_client = 40;
    std::atomic<int> ok{0}, conflicts{0}, other{0}, answered_before_teardown{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < clients; ++t) {
        threads.emplace_back([&, t] {
            raw_client c(server.port());
            for (int i = 0; i < per_client; ++i) {
                c.send(get_request("/work/" + std::to_string(t * per_client + i + 1)));
                const auto res = c.read_response(10s);
                if (!res) {
                    ++other;
                    return;
                }
                // The id of the request's resource, read off the answer the moment it arrives: its
                // teardown must already have run (a response is written only after teardown).
                const auto digits = res->body.find_first_of("0123456789");
                if (digits == std::string::npos) {
                    ++other;
                    continue;
                }
                if (!was_torn_down(std::stoi(res->body.substr(digits)))) ++answered_before_teardown;
                if (res->status == 200 && res->body.rfind("\"cfg:", 0) == 0) {
                    ++ok;
                } else if (res->status == 409) {
                    ++conflicts;
                } else {
                    ++other;
                }
            }
        });
    }
    for (auto& t : threads) t.join();
    constexpr int total = clients * per_client;
    EXPECT_EQ(other.load(), 0);
    EXPECT_EQ(conflicts.load(), total / 7);
    EXPECT_EQ(ok.load() + conflicts.load(), total);
    EXPECT_EQ(answered_before_teardown.load(), 0) << "an answer arrived before its resource was torn down";
    EXPECT_EQ(open_resources.load(), 0);
    EXPECT_EQ(closed_resources.load(), total);
    EXPECT_EQ(configs_made.load(), 1);
}

namespace {
// Where each step of a request ran: an awaited provider's set-up and teardown, and the handler.
struct thread_trail {
    std::thread::id set_up, handler;
};
std::atomic<int> torn_down_elsewhere{0};  // teardowns that ran on another thread than the handler
keel::async_yield<thread_trail> trail_threads() {
    thread_trail t;
    t.set_up = std::this_thread::get_id();
    co_yield t;
    if (std::this_thread::get_id() != t.handler) ++torn_down_elsewhere;
}
keel::yield<int> blocking_step() {
    co_yield 1;
}
}  // namespace

// A coroutine handler whose only providers have awaited teardowns (the awaited session's
// kind) is bound, run and torn down on its I/O thread: no trip to the worker pool and back.
// With a keel::yield provider in its graph, binding goes to a worker as before.
TEST(ServerDependenciesTest, ACoroutineHandlerWithOnlyAwaitedProvidersNeverLeavesItsIoThread) {
    keel::app app;
    app.get("/awaited", [](keel::depends<trail_threads> t) -> keel::task<std::string> {
        t->handler = std::this_thread::get_id();
        co_return t->set_up == t->handler ? "same" : "hopped";
    });
    app.get("/mixed",
            [](keel::depends<blocking_step>, keel::depends<trail_threads> t) -> keel::task<std::string> {
                t->handler = std::this_thread::get_id();
                co_return t->set_up == t->handler ? "same" : "hopped";
            });
    live_server server(app);
    raw_client c(server.port());
    for (int i = 0; i < 3; ++i) {
        c.send(get_request("/awaited"));
        const auto res = c.read_response(5s);
        ASSERT_TRUE(res);
        EXPECT_EQ(res->status, 200);
        EXPECT_EQ(res->body, "\"same\"");
    }
    c.send(get_request("/mixed"));
    const auto mixed = c.read_response(5s);
    ASSERT_TRUE(mixed);
    EXPECT_EQ(mixed->body, "\"hopped\"");  // bound on a worker, run on the I/O thread
    EXPECT_EQ(torn_down_elsewhere, 0);     // awaited teardowns run where the handler did
}
