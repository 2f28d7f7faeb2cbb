// A handler parameter keel cannot bind: a plain int (a path, query or header value must say which).
// expect: keel: this handler parameter type is not understood
#include <keel/app.hpp>

void f(keel::app& app) {
    app.get("/", [](int n) { return n; });
}
