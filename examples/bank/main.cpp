// The bank: the reference service (users, accounts, transfers) as a keel service is written.
//
//   DATABASE_URL=postgresql://... build/release/examples/bank/keel_bank [--seed] [--port 8000]
//   scripts/run-example      # the same on a private local PostgreSQL, made on first run
//   keel_bank --openapi > openapi.json   # the OpenAPI document, without a database
#include "app.hpp"
#include "settings.hpp"

#include <sys/resource.h>
#include <iostream>
#include <stdexcept>

int main(int argc, char** argv) {
    bank::settings config;
    try {
        config = bank::settings::from_command_line(argc, argv);
    } catch (const std::invalid_argument& e) {
        std::cerr << "keel_bank: " << e.what() << '\n';
        return 2;
    }
    keel::app app;
    bank::configure(app, config);
    if (config.print_openapi) {
        std::cout << app.openapi_document() << '\n';
        return 0;
    }
    const int status = app.run(config.server);  // SIGINT/SIGTERM drain gracefully

    rusage usage{};
    if (::getrusage(RUSAGE_SELF, &usage) == 0)
        std::cerr << "keel_bank: peak RSS " << usage.ru_maxrss << " KiB\n";
    return status;
}
