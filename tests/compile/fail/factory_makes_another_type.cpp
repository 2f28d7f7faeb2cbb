// app.provide<T>(...) with a factory that makes something else.
// expect: keel: app.provide<T>(scope, factory): the factory must return T
#include <keel/app.hpp>

#include <string>

struct settings {
    int port = 0;
};

void f(keel::app& app) {
    app.provide<settings>(keel::scope::app, [] { return std::string("8000"); });
}
