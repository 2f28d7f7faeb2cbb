#pragma once

// The example bank configured on a throwaway database seeded with the reference contract's data,
// for tests that drive it through real tools (a browser, Prometheus).

#include "app.hpp"
#include "database.hpp"

#include <keel/app.hpp>
#include <keel/testing/database_template.hpp>
#include <keel/testing/postgres_environment.hpp>

#include <string>

namespace keel_test {

struct seeded_bank {
    explicit seeded_bank(const std::string& name)
        : seeded(keel::testing::postgres_environment::server(), name, [](keel::session& db) {
              bank::apply_schema(db);
              bank::seed(db);
          }) {
        bank::settings settings;
        settings.database.url = database.url();
        bank::configure(app, settings);
    }

    keel::testing::database_template seeded;
    keel::testing::fresh_database database = seeded.make();
    keel::app app;
};

}  // namespace keel_test
