// A service taken by value would be a silent copy of the shared one.
// expect: keel: take a service by reference (T& or const T&), not by value
#include <keel/app.hpp>

struct mailer {
    int sent = 0;
};

void f(keel::app& app) {
    app.get("/", [](mailer m) { return m.sent; });
}
