#include "app.hpp"

#include "database.hpp"
#include "routes.hpp"

#include <keel/engine.hpp>
#include <keel/health.hpp>
#include <keel/jwt.hpp>
#include <keel/session.hpp>

#include <memory>

namespace bank {

void configure(keel::app& app, const settings& config) {
    configure_services(app, config);
    app.include(users_router());
    app.include(accounts_router());
    app.include(transfers_router());
    app.include(admin_router());
}

void configure_services(keel::app& app, const settings& config) {
    app.openapi({.title = "keel bank",
                 .version = "1.0.0",
                 .description = "Users, accounts and transfers between them: keel's reference service."});
    // App-scoped services, made at start-up and disposed at shut-down in reverse order.
    app.provide<keel::engine>(
        keel::scope::app, [options = config.database] { return std::make_shared<keel::engine>(options); });
    app.provide<keel::session_factory>(keel::scope::app,
                                       [](keel::engine& e) { return keel::session_factory{e}; });
    // The admin routes' bearer tokens are verified with this key, re-read when the file changes.
    // Without one the verifier has no key, and those routes answer 503: never unprotected.
    app.provide<keel::jwt_verifier>(
        keel::scope::app, [&app, file = config.jwt_key_file, audience = config.jwt_audience] {
            if (file.empty()) return std::make_unique<keel::jwt_verifier>();
            return std::make_unique<keel::jwt_verifier>(
                keel::jwt_options{.key_file = file, .audience = audience, .log = &app.logger()});
        });

    // Start-up: refuse to serve without a database; create missing tables; seed when asked.
    app.on_startup([seed_data = config.seed](keel::session_factory& sessions) {
        auto db = sessions.open();
        apply_schema(db);
        if (seed_data) seed(db);
        db.commit();
    });

    // Liveness and readiness: /readyz is 503 while the database cannot answer a SELECT 1 within
    // 500 ms, and while the server drains.
    app.readiness_check("database", keel::database_check{});
    app.include(keel::health_router());
    app.include(transport_router());
}

}  // namespace bank
