// A handler's result must become a response: keel::response, void, or JSON-serialisable.
// expect: keel: a handler must return keel::response, void, or a value nlohmann_json can serialise
#include <keel/app.hpp>

struct opaque {
    int secret = 0;
};

void f(keel::app& app) {
    app.get("/", [] { return opaque{}; });
}
