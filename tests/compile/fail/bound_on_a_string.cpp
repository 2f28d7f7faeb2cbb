// A number's bound on a string parameter is a mistake the compiler names.
// expect: keel: gt, ge, lt, le and multiple_of apply to integer and floating-point values
#include <keel/app.hpp>
#include <keel/query.hpp>

#include <string>

void f(keel::app& app) {
    app.get("/", [](keel::query<std::string, "q", keel::gt(0)> q) { return *q; });
}
