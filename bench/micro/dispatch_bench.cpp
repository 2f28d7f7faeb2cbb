// In-process cost of one request through keel: routing, parameter binding, the handler and
// JSON serialisation, with no socket. What the server adds on top is measured by compare.
#include <benchmark/benchmark.h>
#include <keel/app.hpp>
#include <keel/depends.hpp>
#include <keel/testing/client.hpp>
#include <keel/yield.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace {
struct user {
    std::int64_t id;
    std::string email;
    std::string name;
    NLOHMANN_DEFINE_TYPE_INTRUSIVE(user, id, email, name)
};

struct resource {
    int id;
};
keel::yield<resource> acquire() {
    resource r{1};
    co_yield r;
}
int user_id(keel::depends<acquire> r) {
    return r->id;
}

keel::app& bench_app() {
    static keel::app app;
    static const bool once = [] {
        for (int i = 0; i < 20; ++i) app.get("/static/" + std::to_string(i), [] { return 0; });
        app.get("/plaintext",
                []() -> keel::task<keel::response> { co_return keel::response::text("Hello, World!"); });
        app.get("/users/{user_id}", [](keel::path<std::int64_t> id, keel::query<int, "limit", 10> limit) {
            return user{*id + *limit, "user@example.com", "User"};
        });
        app.post("/users", [](keel::body<user> u) { return *u; });
        app.get("/deps", [](keel::depends<user_id> id, keel::depends<acquire> r) -> keel::task<int> {
            co_return *id + r->id;
        });
        return true;
    }();
    (void)once;
    return app;
}

void BM_PlaintextCoroutine(benchmark::State& state) {
    keel::testing::client c{bench_app()};
    for (auto _ : state) benchmark::DoNotOptimize(c.get("/plaintext"));
}
BENCHMARK(BM_PlaintextCoroutine);

void BM_PathAndQueryToJson(benchmark::State& state) {
    keel::testing::client c{bench_app()};
    for (auto _ : state) benchmark::DoNotOptimize(c.get("/users/42?limit=3"));
}
BENCHMARK(BM_PathAndQueryToJson);

void BM_JsonBodyRoundTrip(benchmark::State& state) {
    keel::testing::client c{bench_app()};
    const nlohmann::json body = {{"id", 1}, {"email", "a@b.c"}, {"name", "A"}};
    for (auto _ : state) benchmark::DoNotOptimize(c.post("/users", body));
}
BENCHMARK(BM_JsonBodyRoundTrip);

// A yield provider and a provider built on it: resolution, caching and teardown.
void BM_TwoDependencies(benchmark::State& state) {
    keel::testing::client c{bench_app()};
    for (auto _ : state) benchmark::DoNotOptimize(c.get("/deps"));
}
BENCHMARK(BM_TwoDependencies);

void BM_NotFound(benchmark::State& state) {
    keel::testing::client c{bench_app()};
    for (auto _ : state) benchmark::DoNotOptimize(c.get("/nowhere/at/all"));
}
BENCHMARK(BM_NotFound);

struct item {
    std::int64_t id;
    std::string name;
    std::optional<std::string> note;
    KEEL_MODEL(item, id, name, note)
};

// Building an app of N routes (a path parameter, a query parameter and a body model each):
// the route table, the graph check and the OpenAPI document, which is most of it.
void BM_BuildWithOpenApiDocument(benchmark::State& state) {
    const auto routes = static_cast<int>(state.range(0));
    for (auto _ : state) {
        state.PauseTiming();
        auto app = std::make_unique<keel::app>();
        for (int i = 0; i < routes; ++i) {
            const auto base = "/r" + std::to_string(i) + "/{id}";
            app->put(base,
                     [](keel::path<std::int64_t> id, keel::query<int, "limit", 10>, keel::body<item> in) {
                         return item{*id, in->name, std::nullopt};
                     });
        }
        state.ResumeTiming();
        benchmark::DoNotOptimize(app->openapi_document().size());
        state.PauseTiming();
        app.reset();  // the app's destruction is not the build's
        state.ResumeTiming();
    }
}
BENCHMARK(BM_BuildWithOpenApiDocument)->Arg(9)->Arg(200)->Unit(benchmark::kMicrosecond);
}  // namespace
