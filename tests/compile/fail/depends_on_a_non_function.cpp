// depends<> names a provider function; its address is its identity.
// expect: keel::depends<Provider>: Provider must be a function
#include <keel/app.hpp>

constexpr int not_a_function = 3;

void f(keel::app& app) {
    app.get("/", [](keel::depends<&not_a_function> v) { return *v; });
}
