// The service from the README: what a small keel app looks like.
#include <keel/keel.hpp>

#include <cstdint>
#include <string>

struct greeting {
    std::string message;
    std::int64_t times;
    // JSON both ways, strict types, every bad field named; (field, constraints...) are checked too
    KEEL_MODEL(greeting, (message, max_length(100)), (times, ge(1), le(10)))
};

int main(int argc, char** argv) {
    keel::app app;

    app.get("/plaintext", [] { return keel::response::text("Hello, World!"); });

    app.get("/hello/{name}",
            [](keel::path<std::string> name, keel::query<std::int64_t, "times", 1, keel::ge(1)> times) {
                return greeting{"Hello, " + *name + "!", *times};
            });

    app.post("/echo", [](keel::body<greeting> in) { return *in; }).status(keel::status::created);

    return app.run(argc, argv);  // HOST, PORT, --port ...; Ctrl-C stops it gracefully
}
