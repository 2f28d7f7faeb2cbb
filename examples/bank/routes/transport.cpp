#include "../models.hpp"
#include "../routes.hpp"

#include <keel/response.hpp>
#include <keel/task.hpp>

#include <nlohmann/json.hpp>

namespace bank {

// The reference contract's transport checks; /healthz and /readyz are keel's (keel::health_router,
// included in app.cpp).
keel::router transport_router() {
    keel::router health{"", {"health"}};
    health
        .get("/plaintext",
             []() -> keel::task<keel::response> {
                 co_return keel::response::text("Hello, World!", keel::status::ok, "text/plain");
             })
        .media_type("text/plain");
    health.get("/json", []() -> keel::task<hello> { co_return hello{"Hello, World!"}; });
    return health;
}

}  // namespace bank
