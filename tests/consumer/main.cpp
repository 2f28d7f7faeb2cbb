// Links keel, serves one request in-process, and checks the answer.
#include <keel/keel.hpp>
#include <keel/testing/client.hpp>

#include <iostream>

int main() {
    keel::app app;
    app.get("/ping/{n}", [](keel::path<int> n) { return *n + 1; });
    keel::testing::client client{app};
    const auto res = client.get("/ping/41");
    if (res.status() != keel::status::ok || res.text() != "42") {
        std::cerr << "unexpected answer: " << res << '\n';
        return 1;
    }
    std::cout << "consumer: ok\n";
    return 0;
}
