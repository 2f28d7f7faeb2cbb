#include <keel/model.hpp>

#include <gtest/gtest.h>
#include <keel/app.hpp>
#include <keel/testing/client.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

using keel::testing::client;
using keel::testing::parse_json;
using nlohmann::json;

namespace {
struct line_item {
    std::string sku;
    std::int32_t quantity;
    KEEL_MODEL(line_item, sku, quantity)
};

struct order {
    std::int64_t customer_id;
    std::string email;
    bool gift;
    double discount;
    std::optional<std::string> note;
    std::vector<line_item> items;
    KEEL_MODEL(order, customer_id, email, gift, discount, note, items)
};

keel::app& order_app() {
    static keel::app app;
    static const bool once = [] {
        app.post("/orders", [](keel::body<order> o) { return *o; }).status(keel::status::created);
        return true;
    }();
    (void)once;
    return app;
}

json valid_order() {
    return {{"customer_id", 7},
            {"email", "a@b.c"},
            {"gift", false},
            {"discount", 0.5},
            {"items", {{{"sku", "x1"}, {"quantity", 2}}}}};
}

std::vector<json> locs(const keel::testing::test_response& res) {
    std::vector<json> out;
    const json body = res.json();
    for (const auto& e : body["detail"]) out.push_back(e["loc"]);
    return out;
}
}  // namespace

TEST(ModelTest, RoundTripsThroughJson) {
    client c{order_app()};
    const auto res = c.post("/orders", valid_order());
    ASSERT_EQ(res.status(), keel::status::created) << res;
    auto expected = valid_order();
    expected["note"] = nullptr;  // optional members are written as null
    EXPECT_EQ(res.json(), expected);
}

TEST(ModelTest, EveryFailingFieldIsNamedWithItsPath) {
    client c{order_app()};
    json bad = valid_order();
    bad.erase("email");
    bad["gift"] = "yes";
    bad["items"][0]["quantity"] = "two";
    bad["items"].push_back({{"quantity", 1}});
    const auto res = c.post("/orders", bad);
    ASSERT_EQ(res.status(), keel::status::unprocessable_entity) << res;
    EXPECT_EQ(locs(res),
              (std::vector<json>{parse_json(R"(["body","email"])"), parse_json(R"(["body","gift"])"),
                                 parse_json(R"(["body","items","0","quantity"])"),
                                 parse_json(R"(["body","items","1","sku"])")}))
        << res;
}

TEST(ModelTest, IntegersAreStrict) {
    client c{order_app()};
    for (const json& wrong : {json(1.5), json(true), json("7"), json(nullptr)}) {
        json bad = valid_order();
        bad["customer_id"] = wrong;
        const auto res = c.post("/orders", bad);
        ASSERT_EQ(res.status(), keel::status::unprocessable_entity) << keel::testing::json_text(wrong) << "\n"
                                                                    << res;
        EXPECT_EQ(res.json()["detail"][0]["type"], "type_error.integer") << keel::testing::json_text(wrong);
    }
}

TEST(ModelTest, IntegersOutOfRangeAreRejected) {
    client c{order_app()};
    json bad = valid_order();
    bad["items"][0]["quantity"] = 5'000'000'000LL;  // > int32
    const auto res = c.post("/orders", bad);
    ASSERT_EQ(res.status(), keel::status::unprocessable_entity) << res;
    EXPECT_EQ(res.json()["detail"][0]["type"], "value_error.number.not_in_range");
    bad = valid_order();
    bad["customer_id"] = 18'446'744'073'709'551'615ULL;  // > int64
    EXPECT_EQ(c.post("/orders", bad).status(), keel::status::unprocessable_entity);
}

TEST(ModelTest, OptionalFieldsMayBeMissingOrNull) {
    client c{order_app()};
    json with_note = valid_order();
    with_note["note"] = "ring twice";
    EXPECT_EQ(c.post("/orders", with_note).json()["note"], "ring twice");
    with_note["note"] = nullptr;
    EXPECT_EQ(c.post("/orders", with_note).status(), keel::status::created);
    with_note["note"] = 5;
    EXPECT_EQ(c.post("/orders", with_note).json()["detail"][0]["loc"], parse_json(R"(["body","note"])"));
}

TEST(ModelTest, NonObjectBodyIsOneError) {
    client c{order_app()};
    const auto res = c.post("/orders", json::array());
    ASSERT_EQ(res.status(), keel::status::unprocessable_entity) << res;
    ASSERT_EQ(res.json()["detail"].size(), 1u);
    EXPECT_EQ(res.json()["detail"][0]["type"], "type_error.dict");
    EXPECT_EQ(res.json()["detail"][0]["loc"], parse_json(R"(["body"])"));
}

TEST(ModelTest, UnknownKeysAreIgnored) {
    client c{order_app()};
    json extra = valid_order();
    extra["unexpected"] = {1, 2, 3};
    EXPECT_EQ(c.post("/orders", extra).status(), keel::status::created);
}

TEST(ModelTest, SerialisesLikeNlohmannButInDeclarationOrder) {
    order o{42, "quote\" back\\slash \x01 tab\t", true, 0.1, std::nullopt, {{"é-sku", -3}, {"x", 0}}};
    std::string fast;
    keel::detail::append_json(fast, o);
    nlohmann::json slow = o;
    EXPECT_EQ(parse_json(fast), slow) << fast;
    EXPECT_LT(fast.find("customer_id"), fast.find("email")) << fast;  // nlohmann would sort the keys
    EXPECT_NE(fast.find(R"("email":"quote\" back\\slash \u0001 tab\t")"), std::string::npos) << fast;
}

TEST(ModelTest, InvalidUtf8IsReplacedNotSent) {
    std::string out;
    keel::detail::append_json(out, std::string("bad \xff byte"));
    EXPECT_TRUE(json::accept(out)) << out;
    EXPECT_EQ(parse_json(out), "bad \xef\xbf\xbd byte");  // U+FFFD in place of the bad byte, the rest kept
}
