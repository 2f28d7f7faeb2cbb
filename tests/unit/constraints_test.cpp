// Declared constraints: checked by the binder in the same 422 as the type errors, and shown in
// the OpenAPI document, from the one declaration.

#include <gtest/gtest.h>
#include <keel/json.hpp>
#include <keel/keel.hpp>
#include <keel/testing/client.hpp>
#include <keel/testing/json.hpp>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

using keel::testing::client;
using keel::testing::parse_json;
using nlohmann::json;

namespace {

struct signup {
    std::string email;
    std::string name;
    std::int64_t age;
    double score;
    std::uint32_t lucky;
    std::optional<std::int64_t> referrer;
    std::vector<std::string> tags;
    std::string note;
    KEEL_MODEL(signup, (email, max_length(254), pattern("^[^@]+@[^@]+$"), example("ada@example.com")),
               (name, min_length(1), max_length(5), description("Shown to others")), (age, ge(18), lt(130)),
               (score, gt(0.5), le(10), multiple_of(0.5)), (lucky, multiple_of(7)), (referrer, gt(0)),
               (tags, min_items(1), max_items(3)), note)
};

// A field type of the user's own, read by nlohmann_json: its from_json decides what a bad value says.
struct iban {
    std::string text;
};
void from_json(const json& j, iban& out) {
    const auto text = j.get<std::string>();  // a number throws nlohmann's type_error
    if (text.size() < 15) throw keel::invalid_value("not a valid IBAN", "value_error.iban");
    out.text = text;
}
void to_json(json& j, const iban& in) {
    j = in.text;
}

// (a|aa)+$ backtracks exponentially on "aaaa...b" in a backtracking engine.
struct word {
    std::string text;
    KEEL_MODEL(word, (text, pattern("^(a|aa)+$")))
};

struct payee {
    iban account;
    std::int64_t amount;
    KEEL_MODEL(payee, account, (amount, gt(0)))
};

json valid_signup() {
    return {{"email", "ada@example.com"}, {"name", "Ada"},    {"age", 36}, {"score", 9.5}, {"lucky", 14},
            {"referrer", nullptr},        {"tags", {"math"}}, {"note", ""}};
}

keel::app& constrained_app() {
    static keel::app app;
    static bool once = [] {
        app.post("/signup", [](keel::body<signup> in) { return in->name; });
        app.post("/payees", [](keel::body<payee> in) { return in->amount; });
        app.post("/words", [](keel::body<word> in) { return in->text.size(); });
        app.get(
            "/items/{id}",
            [](keel::path<std::int64_t, "id", keel::gt(0)> id,
               keel::query<int, "limit", 20, keel::ge(1), keel::le(100), keel::description("Page size")>
                   limit,
               keel::query<std::optional<std::string>, "q", keel::min_length(2)> q,
               keel::query<std::vector<int>, "tag", keel::max_items(2)> tags,
               keel::header<std::optional<std::string>, "x-trace", keel::pattern("^[0-9a-f]{8}$")> trace) {
                return json{{"id", *id},
                            {"limit", *limit},
                            {"q", q->value_or("")},
                            {"tags", tags->size()},
                            {"trace", trace->value_or("")}};
            });
        return true;
    }();
    (void)once;
    return app;
}

// The one failure of a 422 answer (the test says which field it breaks).
json only_error(const keel::testing::test_response& res) {
    EXPECT_EQ(res.status(), keel::status::unprocessable_entity) << res;
    const auto detail = res.json()["detail"];
    EXPECT_EQ(detail.size(), 1U) << res;
    return detail.empty() ? json() : detail[0];
}

json signup_with(const std::string& field, json value) {
    auto body = valid_signup();
    body[field] = std::move(value);
    return body;
}

// A valid signup with one field's value replaced, and the one error it must get.
struct failure {
    const char* field;
    json value;
    const char* type;
    const char* msg;
};

void expect_each(client& c, const std::vector<failure>& failures) {
    for (const auto& f : failures) {
        const auto error = only_error(c.post("/signup", signup_with(f.field, f.value)));
        EXPECT_EQ(error["loc"], json::array({"body", f.field})) << f.field << " = " << f.value;
        EXPECT_EQ(error["type"], f.type) << f.field << " = " << f.value;
        EXPECT_EQ(error["msg"], f.msg) << f.field << " = " << f.value;
    }
}

}  // namespace

TEST(ConstraintsTest, AValidBodyPasses) {
    client c{constrained_app()};
    const auto res = c.post("/signup", valid_signup());
    EXPECT_EQ(res.status(), keel::status::ok) << res;
    EXPECT_EQ(res.json(), "Ada");
}

TEST(ConstraintsTest, EachNumberRuleHasItsTypeAndMessage) {
    client c{constrained_app()};
    const std::vector<failure> failures = {
        {"age", 17, "value_error.number.not_ge", "ensure this value is greater than or equal to 18"},
        {"age", 130, "value_error.number.not_lt", "ensure this value is less than 130"},
        {"score", 0.5, "value_error.number.not_gt", "ensure this value is greater than 0.5"},
        {"score", 10.5, "value_error.number.not_le", "ensure this value is less than or equal to 10"},
        {"score", 1.25, "value_error.number.not_multiple", "ensure this value is a multiple of 0.5"},
        {"lucky", 15, "value_error.number.not_multiple", "ensure this value is a multiple of 7"},
        {"referrer", 0, "value_error.number.not_gt", "ensure this value is greater than 0"},
    };
    expect_each(c, failures);
    // The edges that pass: ge and le include their bound, multiples of a fractional step.
    EXPECT_EQ(c.post("/signup", signup_with("age", 18)).status(), keel::status::ok);
    EXPECT_EQ(c.post("/signup", signup_with("score", 10)).status(), keel::status::ok);
    EXPECT_EQ(c.post("/signup", signup_with("score", 1.5)).status(), keel::status::ok);
    EXPECT_EQ(c.post("/signup", signup_with("lucky", 0)).status(), keel::status::ok);
}

TEST(ConstraintsTest, EachStringAndListRuleHasItsTypeAndMessage) {
    client c{constrained_app()};
    const std::vector<failure> failures = {
        {"name", "", "value_error.any_str.min_length", "ensure this value has at least 1 characters"},
        {"name", "Adelaide", "value_error.any_str.max_length", "ensure this value has at most 5 characters"},
        {"email", "ada.example.com", "value_error.str.regex",
         "string does not match regex \"^[^@]+@[^@]+$\""},
        {"email", std::string(250, 'a') + "@b.cd", "value_error.any_str.max_length",
         "ensure this value has at most 254 characters"},
        {"tags", json::array(), "value_error.list.min_items", "ensure this value has at least 1 items"},
        {"tags", {"a", "b", "c", "d"}, "value_error.list.max_items", "ensure this value has at most 3 items"},
    };
    expect_each(c, failures);
    // Lengths count characters, not bytes: five two-byte letters fit max_length(5).
    EXPECT_EQ(c.post("/signup", signup_with("name", "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9")).status(),
              keel::status::ok);
}

namespace {
// Stands in for a database row: names each column the model reads, in order.
struct recording_row {
    std::vector<std::string>* names;
    template <class T>
    void read(const char* name, T&) const {
        names->emplace_back(name);
    }
};
}  // namespace

TEST(ConstraintsTest, AConstrainedFieldIsWrittenAndMappedFromRowsByItsName) {
    payee p{{"DE89370400440532013000"}, 5};
    EXPECT_EQ(json(p), parse_json(R"({"account":"DE89370400440532013000","amount":5})"));
    std::vector<std::string> names;
    keel_from_row(recording_row{&names}, p);
    EXPECT_EQ(names, (std::vector<std::string>{"account", "amount"}));
}

TEST(ConstraintsTest, TypeErrorsAndConstraintFailuresComeInOneAnswer) {
    client c{constrained_app()};
    auto body = valid_signup();
    body["age"] = "old";        // a type error
    body["name"] = "Adelaide";  // too long
    body["score"] = 0;          // not > 0.5
    body.erase("email");        // missing
    const auto res = c.post("/signup", body);
    ASSERT_EQ(res.status(), keel::status::unprocessable_entity) << res;
    std::vector<std::string> where;
    const auto detail = res.json()["detail"];
    for (const auto& e : detail)
        where.push_back(e["loc"][1].get<std::string>() + ":" + e["type"].get<std::string>());
    EXPECT_EQ(where,
              (std::vector<std::string>{"email:value_error.missing", "name:value_error.any_str.max_length",
                                        "age:type_error.integer", "score:value_error.number.not_gt"}));
}

TEST(ConstraintsTest, AnAbsentOrNullOptionalIsNotChecked) {
    client c{constrained_app()};
    auto body = valid_signup();
    body.erase("referrer");
    EXPECT_EQ(c.post("/signup", body).status(), keel::status::ok);
    EXPECT_EQ(c.post("/signup", signup_with("referrer", nullptr)).status(), keel::status::ok);
    EXPECT_EQ(c.post("/signup", signup_with("referrer", 3)).status(), keel::status::ok);
}

TEST(ConstraintsTest, APatternTakesLinearTimeOnHostileInput) {
    // A backtracking engine would not answer this in the test's lifetime, and a recursive one
    // (libstdc++'s std::regex) overflows the stack on a long value: RE2 does neither.
    client c{constrained_app()};
    const auto error = only_error(c.post("/words", json{{"text", std::string(100000, 'a') + "b"}}));
    EXPECT_EQ(error["type"], "value_error.str.regex");
    EXPECT_EQ(c.post("/words", json{{"text", std::string(100000, 'a')}}).json(), 100000);
}

TEST(ConstraintsTest, ParametersCarryConstraints) {
    client c{constrained_app()};
    EXPECT_EQ(c.get("/items/3?limit=100&q=ab&tag=1&tag=2").json(),
              parse_json(R"({"id":3,"limit":100,"q":"ab","tags":2,"trace":""})"));
    EXPECT_EQ(c.get("/items/3").json()["limit"], 20) << "the default is not checked";

    auto error = only_error(c.get("/items/0"));
    EXPECT_EQ(error["loc"], parse_json(R"(["path","id"])"));
    EXPECT_EQ(error["type"], "value_error.number.not_gt");
    error = only_error(c.get("/items/3?limit=0"));
    EXPECT_EQ(error["loc"], parse_json(R"(["query","limit"])"));
    EXPECT_EQ(error["type"], "value_error.number.not_ge");
    EXPECT_EQ(only_error(c.get("/items/3?limit=101"))["type"], "value_error.number.not_le");
    EXPECT_EQ(only_error(c.get("/items/3?q=a"))["type"], "value_error.any_str.min_length");
    EXPECT_EQ(only_error(c.get("/items/3?tag=1&tag=2&tag=3"))["type"], "value_error.list.max_items");
    error = only_error(c.get("/items/3", {{"x-trace", "xyz"}}));
    EXPECT_EQ(error["loc"], parse_json(R"(["header","x-trace"])"));
    EXPECT_EQ(error["type"], "value_error.str.regex");
    EXPECT_EQ(c.get("/items/3", {{"x-trace", "0123abcd"}}).json()["trace"], "0123abcd");

    const auto res = c.get("/items/0?limit=0&tag=x");
    ASSERT_EQ(res.status(), keel::status::unprocessable_entity) << res;
    EXPECT_EQ(res.json()["detail"].size(), 3U) << "a constraint failure and a type error, together: " << res;
}

TEST(ConstraintsTest, AUserTypesFromJsonSaysWhatItsValueLacks) {
    client c{constrained_app()};
    auto error = only_error(c.post("/payees", json{{"account", "DE12"}, {"amount", 5}}));
    EXPECT_EQ(error,
              parse_json(R"({"loc":["body","account"],"msg":"not a valid IBAN","type":"value_error.iban"})"));

    // nlohmann's own exception says nothing of the library's internals.
    const auto res = c.post("/payees", json{{"account", 7}, {"amount", 0}});
    ASSERT_EQ(res.status(), keel::status::unprocessable_entity) << res;
    EXPECT_EQ(res.json()["detail"], parse_json(R"([
        {"loc":["body","account"],"msg":"value is not of the expected type","type":"type_error"},
        {"loc":["body","amount"],"msg":"ensure this value is greater than 0","type":"value_error.number.not_gt"}])"));
    EXPECT_EQ(res.body().find("json.exception"), std::string::npos) << res;
}

TEST(ConstraintsTest, TheDocumentShowsTheConstraints) {
    const auto doc = parse_json(constrained_app().openapi_document());
    const auto& fields = doc["components"]["schemas"]["signup"]["properties"];
    EXPECT_EQ(fields["email"], parse_json(R"({"type":"string","maxLength":254,"pattern":"^[^@]+@[^@]+$",
        "examples":["ada@example.com"]})"));
    EXPECT_EQ(fields["name"],
              parse_json(R"({"type":"string","minLength":1,"maxLength":5,"description":"Shown to others"})"));
    EXPECT_EQ(fields["age"],
              parse_json(R"({"type":"integer","format":"int64","minimum":18,"exclusiveMaximum":130})"));
    EXPECT_EQ(fields["score"], parse_json(R"({"type":"number","format":"double","exclusiveMinimum":0.5,
        "maximum":10,"multipleOf":0.5})"));
    EXPECT_EQ(fields["lucky"],
              parse_json(R"({"type":"integer","minimum":0,"maximum":4294967295,"multipleOf":7})"));
    EXPECT_EQ(fields["referrer"],
              parse_json(
                  R"({"anyOf":[{"type":"integer","format":"int64","exclusiveMinimum":0},{"type":"null"}]})"));
    EXPECT_EQ(fields["tags"],
              parse_json(R"({"type":"array","items":{"type":"string"},"minItems":1,"maxItems":3})"));
    EXPECT_EQ(fields["note"], parse_json(R"({"type":"string"})"));

    const auto& parameters = doc["paths"]["/items/{id}"]["get"]["parameters"];
    EXPECT_EQ(parameters[0]["schema"],
              parse_json(R"({"type":"integer","format":"int64","exclusiveMinimum":0})"));
    EXPECT_EQ(parameters[1],
              parse_json(R"({"name":"limit","in":"query","required":false,"description":"Page size",
        "schema":{"type":"integer","format":"int32","minimum":1,"maximum":100,"default":20,"description":"Page size"}})"));
    EXPECT_EQ(parameters[2]["schema"], parse_json(R"({"type":"string","minLength":2})"));
    EXPECT_EQ(parameters[3]["schema"]["maxItems"], 2);
    EXPECT_EQ(parameters[4]["schema"], parse_json(R"({"type":"string","pattern":"^[0-9a-f]{8}$"})"));
}

namespace {
struct bad_pattern {
    std::string code;
    KEEL_MODEL(bad_pattern, (code, pattern("([a-z]")))
};
}  // namespace

TEST(ConstraintsTest, APatternRe2CannotReadStopsTheBuild) {
    keel::app app;
    app.post("/codes", [](keel::body<bad_pattern> in) { return in->code; });
    try {
        app.openapi_document();
        FAIL() << "the app built";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("([a-z]"), std::string::npos) << e.what();
    }
}
