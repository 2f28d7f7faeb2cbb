// A query parameter of a type nothing knows how to parse from text.
// expect: keel: no codec<T> for this parameter type
#include <keel/app.hpp>

struct color {
    int rgb = 0;
};

void f(keel::app& app) {
    app.get("/", [](keel::query<color, "c"> c) { return c->rgb; });
}
