// The replacement must make what the provider makes: the message names the replacement, since
// the original provider is fine.
// expect: keel: dependency_overrides: the replacement must make what the provider it replaces makes
#include <keel/app.hpp>

#include <string>

int answer() {
    return 42;
}

void f(keel::app& app) {
    app.dependency_overrides.set(answer, [] { return std::string("forty-two"); });
}
