// A generic lambda has no one signature to bind.
// expect: keel: a handler or provider must have one fixed signature
#include <keel/app.hpp>

void f(keel::app& app) {
    app.get("/", [](auto value) { return value; });
}
