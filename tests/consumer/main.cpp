// A user's service file, built the way users build (Release, -Wall -Wextra -Wpedantic -Werror,
// keel's headers not treated as system headers): five routes, a body model, a dependency, a
// coroutine handler, optional and defaulted parameters and typed rows. It links keel, serves
// requests in-process, and checks the answers.
#include <keel/keel.hpp>
#include <keel/testing/client.hpp>

#include <cstddef>
#include <cstdint>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

namespace {

struct new_note {
    std::string text;
    std::optional<std::int64_t> priority;
    std::vector<std::string> tags;
    KEEL_MODEL(new_note, text, priority, tags)
};

struct note {
    std::int64_t id;
    std::string text;
    KEEL_MODEL(note, id, text)
};

struct counter {
    int value = 0;
};
counter make_counter() {
    return counter{7};
}
using counter_dep = keel::depends<make_counter>;

// Never called here (no database in this check); compiled so that the session's and the row's
// templates are instantiated under the user's warning flags.
[[maybe_unused]] std::vector<note> notes_since(keel::session& db, std::int64_t after,
                                               std::optional<double> score) {
    const auto rows = db.exec(
        "SELECT id, text FROM notes WHERE id > $1 AND ($2::float8 IS NULL OR score > $2)", after, score);
    std::vector<note> out;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        out.push_back(note{rows[i].get<std::int64_t>("id"), rows[i].get<std::string>("text")});
    }
    auto optional = db.first<note>("SELECT id, text FROM notes LIMIT 1");
    if (optional) out.push_back(*optional);
    out.push_back(note{db.scalar<std::int64_t>("SELECT 1"),
                       db.scalar<std::optional<std::string>>("SELECT NULL").value_or("")});
    return out;
}

}  // namespace

int main() {
    keel::app app;
    app.get("/ping/{n}", [](keel::path<int> n) { return *n + 1; });
    app.get("/flags",
            [](keel::query<std::optional<bool>, "verbose"> verbose, keel::query<int, "limit", 20> limit) {
                // Appended, not `std::string + std::string`: GCC 12 at -O3 warns falsely (-Wrestrict,
                // its bug 105329) about that expression in whatever code it is inlined into.
                std::string answer(verbose->value_or(false) ? "v" : "q");
                answer += std::to_string(*limit);
                return answer;
            });
    app.post("/notes",
             [](keel::body<new_note> in, counter_dep c) {
                 return note{c->value, in->text + "/" + std::to_string(in->priority.value_or(0)) + "/" +
                                           std::to_string(in->tags.size())};
             })
        .status(keel::status::created);
    app.get("/agent", [](keel::header<std::optional<std::string>, "user-agent"> agent) {
        return agent->value_or("none");
    });
    app.get("/async", []() -> keel::task<std::string> { co_return "async"; });

    keel::testing::client client{app};
    int failures = 0;
    const auto expect = [&](const keel::testing::test_response& res, keel::status status,
                            const std::string& body) {
        if (res.status() != status || res.text() != body) {
            std::cerr << "unexpected answer: " << res << "\n  wanted " << keel::to_int(status) << ' ' << body
                      << '\n';
            ++failures;
        }
    };
    expect(client.get("/ping/41"), keel::status::ok, "42");
    expect(client.get("/flags?verbose=yes"), keel::status::ok, "\"v20\"");
    expect(client.post("/notes", {{"text", "hi"}, {"tags", {"a", "b"}}}), keel::status::created,
           R"({"id":7,"text":"hi/0/2"})");
    expect(client.get("/agent"), keel::status::ok, "\"none\"");
    expect(client.get("/async"), keel::status::ok, "\"async\"");
    if (failures) return 1;
    std::cout << "consumer: ok\n";
    return 0;
}
