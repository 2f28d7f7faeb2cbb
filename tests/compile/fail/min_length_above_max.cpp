// Constraints that no value can meet do not build.
// expect: keel: a minimum length or item count above the maximum
#include <keel/app.hpp>
#include <keel/query.hpp>

#include <string>

void f(keel::app& app) {
    app.get("/",
            [](keel::query<std::string, "q", keel::min_length(5), keel::max_length(2)> q) { return *q; });
}
