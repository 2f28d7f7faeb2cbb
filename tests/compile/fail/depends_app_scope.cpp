// App-scoped values are services, not depends<>.
// expect: keel::depends: app-scoped values are services
#include <keel/app.hpp>

int answer() {
    return 42;
}

void f(keel::app& app) {
    app.get("/", [](keel::depends<answer, keel::scope::app> v) { return *v; });
}
