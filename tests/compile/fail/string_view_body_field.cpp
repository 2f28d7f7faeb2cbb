// A string_view in a body would outlive the parsed JSON it views.
// expect: keel: a std::string_view read from JSON would view a document that is gone
#include <keel/app.hpp>
#include <keel/model.hpp>

#include <string_view>

struct note {
    std::string_view text;
    KEEL_MODEL(note, text)
};

void f(keel::app& app) {
    app.post("/", [](keel::body<note> n) { return std::string(n->text); });
}
