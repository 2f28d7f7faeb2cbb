// The transport benchmark's app: GET /plaintext, /json and /healthz, as a user would write them.
//
// Handlers are coroutines, so they run on the I/O threads (they do not block). With
// KEEL_BENCH_BLOCKING=1 the same handlers are registered as plain functions instead, which
// keel runs on its worker pool: the cost of that hop is what the two variants measure.
#include <keel/app.hpp>
#include <keel/model.hpp>
#include <keel/response.hpp>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string_view>

namespace {
struct hello_message {
    std::string message;
    KEEL_MODEL(hello_message, message)
};
}  // namespace

int main(int argc, char** argv) {
    keel::app app;
    const char* blocking = std::getenv("KEEL_BENCH_BLOCKING");
    if (blocking && std::string_view(blocking) == "1") {
        app.get("/plaintext",
                [] { return keel::response::text("Hello, World!", keel::status::ok, "text/plain"); });
        app.get("/json", [] { return hello_message{"Hello, World!"}; });
        app.get("/healthz", [] { return nlohmann::json{{"status", "ok"}}; });
    } else {
        app.get("/plaintext", []() -> keel::task<keel::response> {
            co_return keel::response::text("Hello, World!", keel::status::ok, "text/plain");
        });
        app.get("/json", []() -> keel::task<hello_message> { co_return hello_message{"Hello, World!"}; });
        app.get("/healthz", []() -> keel::task<nlohmann::json> {
            co_return nlohmann::json{{"status", "ok"}};
        });
    }
    return app.run(argc, argv);
}
