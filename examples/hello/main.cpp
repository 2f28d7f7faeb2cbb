// The service from the README: what a small keel app looks like.
#include <keel/keel.hpp>

#include <cstdint>
#include <string>

struct greeting {
    std::string message;
    std::int64_t times;
    KEEL_MODEL(greeting, message, times)  // JSON both ways, strict types, every bad field named
};

int main(int argc, char** argv) {
    keel::app app;

    app.get("/plaintext", [] { return keel::response::text("Hello, World!"); });

    app.get("/hello/{name}", [](keel::path<std::string> name, keel::query<std::int64_t, "times", 1> times) {
        if (*times < 1) throw keel::http_error(keel::status::unprocessable_entity, "times must be positive");
        return greeting{"Hello, " + *name + "!", *times};
    });

    app.post("/echo", [](keel::body<greeting> in) { return *in; }).status(keel::status::created);

    return app.run(argc, argv);  // HOST, PORT, --port ...; Ctrl-C stops it gracefully
}
