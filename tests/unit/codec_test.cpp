// keel's own codecs (uuid, bytes, dates and times) without a database: their text forms, and
// how they bind as request values and JSON fields.
#include <keel/bytes.hpp>
#include <keel/chrono.hpp>
#include <keel/decimal.hpp>
#include <keel/enum.hpp>
#include <keel/interval.hpp>
#include <keel/json.hpp>
#include <keel/uuid.hpp>

#include "../support/sku_codec.hpp"

#include <gtest/gtest.h>
#include <keel/app.hpp>
#include <keel/model.hpp>
#include <keel/testing/client.hpp>

#include <chrono>
#include <limits>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

using keel::testing::client;
using keel::testing::parse_json;
using nlohmann::json;
using namespace std::chrono;

namespace {

template <class T>
std::optional<T> parse(std::string_view text) {
    keel::parse_failure why;
    return keel::codec<T>::parse(text, why);
}
template <class T>
std::optional<T> from_column(std::string_view text) {
    keel::parse_failure why;
    return keel::detail::parse_column<T>(text, why);
}
template <class T>
std::string format(const T& value) {
    std::string out;
    keel::codec<T>::format(out, value);
    return out;
}

constexpr auto leap_day = sys_days(2024y / February / 29);

}  // namespace

TEST(UuidCodecTest, ParsesTheSpellingsPostgresAcceptsAndWritesCanonicalLowerCase) {
    const auto id = keel::uuid::parse("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11");
    ASSERT_TRUE(id);
    EXPECT_EQ(id->to_string(), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
    EXPECT_EQ(keel::uuid::parse("{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}"), id);
    EXPECT_EQ(keel::uuid::parse("a0eebc999c0b4ef8bb6d6bb9bd380a11"), id);
    for (const char* bad :
         {"", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a111",
          "a0eebc99x9c0b-4ef8-bb6d-6bb9bd380a11", "g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
          "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}) {
        EXPECT_FALSE(keel::uuid::parse(bad)) << bad;
    }
    EXPECT_TRUE(keel::uuid().is_nil());
    EXPECT_EQ(keel::uuid().to_string(), "00000000-0000-0000-0000-000000000000");
    EXPECT_LT(keel::uuid(), *id);
    std::unordered_set<keel::uuid> set{*id, keel::uuid()};
    EXPECT_EQ(set.count(*keel::uuid::parse("a0eebc999c0b4ef8bb6d6bb9bd380a11")), 1u);
}

TEST(BytesCodecTest, Base64IsRfc4648WithPaddingAndOneTextPerValue) {
    // RFC 4648 §10's test vectors.
    const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                           {"f", "Zg=="},
                                                           {"fo", "Zm8="},
                                                           {"foo", "Zm9v"},
                                                           {"foob", "Zm9vYg=="},
                                                           {"fooba", "Zm9vYmE="},
                                                           {"foobar", "Zm9vYmFy"}};
    for (const auto& [plain, encoded] : vectors) {
        EXPECT_EQ(keel::to_base64(keel::bytes::from_string(plain)), encoded);
        const auto back = keel::from_base64(encoded);
        ASSERT_TRUE(back) << encoded;
        EXPECT_EQ(back->as_string(), plain);
    }
    for (const char* bad : {"Zg", "Zg=", "Z===", "Zh==", "Zm9=v", "Zm9v!A==", "Zg==Zg=="}) {
        EXPECT_FALSE(keel::from_base64(bad)) << bad;
    }
}

TEST(BytesCodecTest, PostgresSeesHexEveryByteValueIncluded) {
    keel::bytes all(256);
    for (int i = 0; i < 256; ++i) all[static_cast<std::size_t>(i)] = static_cast<std::byte>(i);
    const auto text = format(all);
    EXPECT_EQ(text.substr(0, 8), "\\x000102");
    EXPECT_EQ(text.size(), 2u + 512u);
    EXPECT_EQ(from_column<keel::bytes>(text), all);
    EXPECT_EQ(format(keel::bytes{}), "\\x");
    EXPECT_FALSE(from_column<keel::bytes>("\\x0"));
    EXPECT_FALSE(from_column<keel::bytes>("abc"));  // bytea_output = 'escape'
}

TEST(TimestampCodecTest, ReadsRfc3339AndPostgresOutputToTheMicrosecond) {
    using micro_time = sys_time<microseconds>;
    const micro_time expected = leap_day + 23h + 59min + 59s + 123456us;
    EXPECT_EQ(parse<micro_time>("2024-02-29T23:59:59.123456Z"), expected);
    EXPECT_EQ(parse<micro_time>("2024-03-01T05:29:59.123456+05:30"), expected);
    EXPECT_EQ(parse<micro_time>("2024-02-29t20:29:59.123456-03:30"), expected);
    EXPECT_EQ(parse<micro_time>("2024-02-29T23:59:59.1234560Z"), expected);  // trailing zero: nothing lost
    EXPECT_EQ(from_column<micro_time>("2024-02-29 23:59:59.123456+00"), expected);
    EXPECT_EQ(from_column<micro_time>("2024-02-29 23:59:59.123456"), expected);  // `timestamp`: UTC
    EXPECT_EQ(from_column<micro_time>("1900-01-01 00:19:32+00:19:32"), micro_time(sys_days(1900y / 1 / 1)));
    EXPECT_EQ(format(expected), "2024-02-29T23:59:59.123456Z");
}

TEST(TimestampCodecTest, BeforeNineteenSeventyAndWholeSeconds) {
    const sys_time<microseconds> just_before = sys_days(1970y / 1 / 1) - 1us;
    EXPECT_EQ(format(just_before), "1969-12-31T23:59:59.999999Z");
    EXPECT_EQ(parse<sys_time<microseconds>>("1969-12-31T23:59:59.999999Z"), just_before);
    EXPECT_EQ(format(sys_seconds(sys_days(1066y / 10 / 14))), "1066-10-14T00:00:00Z");
    EXPECT_EQ(parse<sys_seconds>("2026-12-02T01:02:03Z"), sys_days(2026y / 12 / 2) + 1h + 2min + 3s);
}

TEST(TimestampCodecTest, RefusesWhatItCannotKeepExactly) {
    keel::parse_failure why;
    EXPECT_FALSE(keel::codec<sys_seconds>::parse("2026-12-02T01:02:03.5Z", why));
    EXPECT_EQ(why.type, "value_error.datetime.precision");
    EXPECT_FALSE(keel::codec<sys_time<microseconds>>::parse("2026-12-02T01:02:03.1234567Z", why));
    EXPECT_EQ(why.type, "value_error.datetime.precision");
    EXPECT_FALSE(keel::codec<sys_time<microseconds>>::parse("2026-12-02T01:02:03", why));  // no offset
    EXPECT_NE(why.msg.find("offset"), std::string::npos) << why.msg;
    EXPECT_FALSE(keel::detail::parse_column<sys_seconds>("infinity", why));
    EXPECT_NE(why.msg.find("infinity"), std::string::npos) << why.msg;
    EXPECT_FALSE(keel::detail::parse_column<sys_seconds>("0044-03-15 12:00:00+00 BC", why));
    EXPECT_NE(why.msg.find("BC"), std::string::npos) << why.msg;
    for (const char* bad :
         {"2026-02-30T00:00:00Z", "2026-13-01T00:00:00Z", "2026-12-02T24:00:00Z", "2026-12-02T01:02Z",
          "26-12-02T01:02:03Z", "2026-12-02T01:02:03+5", "2026-12-02T01:02:03Zx", "2026-12-02T01:02:03.Z"}) {
        EXPECT_FALSE(parse<sys_seconds>(bad)) << bad;
    }
}

TEST(DateCodecTest, IsoDatesOnly) {
    EXPECT_EQ(parse<year_month_day>("2024-02-29"), 2024y / February / 29);
    EXPECT_EQ(format(year_month_day(1969y / 7 / 20)), "1969-07-20");
    EXPECT_EQ(format(year_month_day(year(12) / 1 / 2)), "0012-01-02");
    for (const char* bad : {"2023-02-29", "2024-2-29", "2024-02-29T00:00:00Z", "infinity", ""}) {
        EXPECT_FALSE(parse<year_month_day>(bad)) << bad;
    }
}

namespace {

struct event {
    keel::uuid id;
    sys_time<microseconds> at;
    year_month_day day;
    keel::bytes payload;
    std::optional<keel::uuid> parent;
    KEEL_MODEL(event, id, at, day, payload, parent)
};

}  // namespace

TEST(CodecBindingTest, RequestValuesOfKeelTypesBindAndRefuseByName) {
    keel::app app;
    app.get("/events/{id}", [](keel::path<keel::uuid> id, keel::query<year_month_day, "from"> from) {
        return id->to_string() + " " + format(*from);
    });
    client c{app};
    EXPECT_EQ(c.get("/events/A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11?from=2026-12-02").json(),
              "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11 2026-12-02");
    const auto bad = c.get("/events/nope?from=2026-02-30");
    EXPECT_EQ(bad.status(), keel::status::unprocessable_entity) << bad;
    EXPECT_EQ(bad.json()["detail"][0]["loc"], parse_json(R"(["path","id"])"));
    EXPECT_EQ(bad.json()["detail"][0]["type"], "type_error.uuid");
    EXPECT_EQ(bad.json()["detail"][1]["loc"], parse_json(R"(["query","from"])"));
    EXPECT_EQ(bad.json()["detail"][1]["type"], "value_error.date");
}

TEST(CodecBindingTest, ModelsCarryKeelTypesAsJsonStrings) {
    keel::app app;
    app.post("/events", [](keel::body<event> e) { return *e; });
    client c{app};
    const json in = {{"id", "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"},
                     {"at", "2026-12-02T09:30:00.25+01:00"},
                     {"day", "2026-12-02"},
                     {"payload", "AAH/"},
                     {"parent", nullptr}};
    const auto res = c.post("/events", in);
    ASSERT_EQ(res.status(), keel::status::ok) << res;
    EXPECT_EQ(res.json(), parse_json(R"({"id":"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        "at":"2026-12-02T08:30:00.250000Z","day":"2026-12-02","payload":"AAH/","parent":null})"));

    json wrong = in;
    wrong["at"] = "2026-12-02T09:30:00";  // no offset
    wrong["payload"] = 7;
    wrong["parent"] = "x";
    const auto bad = c.post("/events", wrong);
    ASSERT_EQ(bad.status(), keel::status::unprocessable_entity) << bad;
    const auto answer = bad.json();
    const auto& detail = answer["detail"];
    ASSERT_EQ(detail.size(), 3u) << bad;
    EXPECT_EQ(detail[0]["loc"], parse_json(R"(["body","at"])"));
    EXPECT_EQ(detail[0]["type"], "value_error.datetime");
    EXPECT_EQ(detail[1]["loc"], parse_json(R"(["body","payload"])"));
    EXPECT_EQ(detail[1]["type"], "type_error.str");
    EXPECT_EQ(detail[2]["loc"], parse_json(R"(["body","parent"])"));
    EXPECT_EQ(detail[2]["type"], "type_error.uuid");
}

namespace {

struct stock {
    sku item;
    int count;
    KEEL_MODEL(stock, item, count)
};

}  // namespace

TEST(CodecBindingTest, AUsersOwnCodecServesPathsAndJsonFields) {
    keel::app app;
    app.get("/stock/{item}", [](keel::path<sku> item) { return stock{*item, 3}; });
    app.post("/stock", [](keel::body<stock> s) { return s->item.code; });
    client c{app};
    EXPECT_EQ(c.get("/stock/ABC-123").json(), parse_json(R"({"item":"ABC-123","count":3})"));
    const auto bad = c.get("/stock/nope");
    EXPECT_EQ(bad.status(), keel::status::unprocessable_entity) << bad;
    EXPECT_EQ(bad.json()["detail"][0]["type"], "value_error.sku");
    EXPECT_EQ(c.post("/stock", json{{"item", "XY-9"}, {"count", 1}}).json(), "XY-9");
    EXPECT_EQ(c.post("/stock", json{{"item", "XY9"}, {"count", 1}}).status(),
              keel::status::unprocessable_entity);
}

namespace shop {
enum class size { small, medium, large };
KEEL_ENUM(size, small, medium, large)

struct shirt {
    size fit;
    std::vector<size> also;
    nlohmann::json extra;  // any JSON value, kept as it is
    KEEL_MODEL(shirt, fit, also, extra)
};
}  // namespace shop

TEST(CodecBindingTest, EnumsTravelByNameAndUnknownNamesAre422) {
    keel::app app;
    app.get("/shirts", [](keel::query<shop::size, "fit"> fit) { return *fit; });
    app.post("/shirts", [](keel::body<shop::shirt> s) { return *s; });
    client c{app};
    EXPECT_EQ(c.get("/shirts?fit=medium").json(), "medium");
    const auto bad = c.get("/shirts?fit=huge");
    ASSERT_EQ(bad.status(), keel::status::unprocessable_entity) << bad;
    EXPECT_EQ(bad.json()["detail"][0]["type"], "type_error.enum");
    EXPECT_EQ(bad.json()["detail"][0]["msg"],
              "value is not a valid enumeration member; permitted: 'small', 'medium', 'large'");

    const json in = {{"fit", "large"}, {"also", {"small", "medium"}}, {"extra", {{"a", {1, 2, nullptr}}}}};
    EXPECT_EQ(c.post("/shirts", in).json(), in);
    json wrong = in;
    wrong["also"] = {"small", "tiny"};
    const auto refused = c.post("/shirts", wrong);
    ASSERT_EQ(refused.status(), keel::status::unprocessable_entity) << refused;
    EXPECT_EQ(refused.json()["detail"][0]["loc"], parse_json(R"(["body","also","1"])"));
}

TEST(DecimalTest, ParsesWhatPostgresWritesAndKeepsTheScale) {
    const auto price = keel::decimal::parse("19.990");
    ASSERT_TRUE(price);
    EXPECT_EQ(price->to_string(), "19.990");
    EXPECT_EQ(price->scale(), 3u);
    EXPECT_EQ(*price, *keel::decimal::parse("19.99"));  // compared as numbers
    EXPECT_EQ(keel::decimal::parse(".5")->to_string(), "0.5");
    EXPECT_EQ(keel::decimal::parse("-0.00")->to_string(), "0.00");  // no negative zero
    EXPECT_EQ(keel::decimal::parse("1.5e3")->to_string(), "1500");
    EXPECT_EQ(keel::decimal::parse("15e-4")->to_string(), "0.0015");
    const std::string forty = "1234567890123456789012345678901234567890.0123456789";
    EXPECT_EQ(keel::decimal::parse(forty)->to_string(), forty);
    for (const char* bad : {"", "-", ".", "1.2.3", "1e", "1e+", "abc", "1,5", " 1", "NaN", "1e999999999"}) {
        EXPECT_FALSE(keel::decimal::parse(bad)) << bad;
    }
}

TEST(DecimalTest, ArithmeticIsExact) {
    const auto d = [](const char* text) { return *keel::decimal::parse(text); };
    EXPECT_EQ((d("0.1") + d("0.2")).to_string(), "0.3");  // what a double cannot do
    EXPECT_EQ((d("10.00") - d("10.005")).to_string(), "-0.005");
    EXPECT_EQ((d("-1.5") * d("2.25")).to_string(), "-3.375");
    EXPECT_EQ((d("99999999999999999999") + keel::decimal(1)).to_string(), "100000000000000000000");
    EXPECT_LT(d("-2"), d("-1.99"));
    EXPECT_GT(d("0.001"), keel::decimal(0));
    EXPECT_EQ(keel::decimal(-42).to_string(), "-42");
    EXPECT_EQ(keel::decimal(std::numeric_limits<std::int64_t>::min()).to_string(), "-9223372036854775808");
}

namespace {
struct priced {
    keel::decimal price;
    KEEL_MODEL(priced, price)
};
}  // namespace

TEST(DecimalTest, JsonCarriesDecimalsAsStrings) {
    keel::app app;
    app.post("/prices", [](keel::body<priced> p) { return priced{p->price * keel::decimal(3)}; });
    client c{app};
    EXPECT_EQ(c.post("/prices", json{{"price", "19.99"}}).json(), parse_json(R"({"price":"59.97"})"));
    const auto as_number = c.post("/prices", parse_json(R"({"price":19.99})"));
    EXPECT_EQ(as_number.status(), keel::status::unprocessable_entity) << as_number;  // a double would round
    const auto garbage = c.post("/prices", json{{"price", "19,99"}});
    ASSERT_EQ(garbage.status(), keel::status::unprocessable_entity) << garbage;
    EXPECT_EQ(garbage.json()["detail"][0]["type"], "value_error.decimal");
}

TEST(TimeOfDayCodecTest, ReadsAndWritesTimesToTheMicrosecond) {
    using time_of_day = hh_mm_ss<microseconds>;
    EXPECT_EQ(parse<time_of_day>("09:30:00.25")->to_duration(), 9h + 30min + 250ms);
    EXPECT_EQ(parse<time_of_day>("23:59:59.999999")->to_duration(), 24h - 1us);
    EXPECT_EQ(format(time_of_day(9h + 30min + 250ms)), "09:30:00.250000");
    EXPECT_EQ(format(time_of_day(0s)), "00:00:00");
    for (const char* bad : {"24:00:00", "9:30:00", "09:30", "09:60:00", "09:30:00.1234567", "09:30:00Z"}) {
        EXPECT_FALSE(parse<time_of_day>(bad)) << bad;
    }
}

TEST(IntervalCodecTest, ReadsIso8601AndWritesItBack) {
    using keel::interval;
    EXPECT_EQ(parse<interval>("P1Y2M3DT4H5M6.5S"), (interval{14, 3, 4h + 5min + 6500ms}));
    EXPECT_EQ(parse<interval>("P2W"), (interval{0, 14, 0us}));
    EXPECT_EQ(parse<interval>("PT0.000001S"), (interval{0, 0, 1us}));
    EXPECT_EQ(parse<interval>("P-1Y-2M3DT-4H-5M-6S"), (interval{-14, 3, -(4h + 5min + 6s)}));
    EXPECT_EQ(parse<interval>("PT36H"), (interval{0, 0, 36h}));  // hours stay hours, not a day and a half
    EXPECT_EQ(format(interval{14, 3, 4h + 5min + 6500ms}), "P1Y2M3DT4H5M6.5S");
    EXPECT_EQ(format(interval{-14, 3, -(4h + 5min + 6s)}), "P-1Y-2M3DT-4H-5M-6S");
    EXPECT_EQ(format(interval{0, 0, -500ms}), "PT-0.5S");
    EXPECT_EQ(format(interval{}), "PT0S");
    for (const char* bad : {"", "P", "PT", "P1DT", "1D", "P1H", "PT1D", "P1M1Y", "P1.5D", "PT1.5H", "PT1S2M",
                            "P1D ", "PT0.0000001S", "P99999999999999999999Y", "P178956971Y"}) {
        EXPECT_FALSE(parse<interval>(bad)) << bad;
    }
    keel::parse_failure why;
    keel::codec<interval>::parse("PT0.0000001S", why);
    EXPECT_EQ(why.type, "value_error.duration");
    EXPECT_NE(why.msg.find("microseconds"), std::string::npos) << why.msg;
}

TEST(IntervalCodecTest, ReadsPostgresOutputInEitherIntervalStyleItCanRead) {
    using keel::interval;
    EXPECT_EQ(from_column<interval>("1 year 2 mons 3 days 04:05:06.5"),
              (interval{14, 3, 4h + 5min + 6500ms}));
    EXPECT_EQ(from_column<interval>("-1 years -2 mons +3 days -04:05:06"),
              (interval{-14, 3, -(4h + 5min + 6s)}));
    EXPECT_EQ(from_column<interval>("00:00:00"), interval{});
    EXPECT_EQ(from_column<interval>("1 day"), (interval{0, 1, 0us}));
    EXPECT_EQ(from_column<interval>("2562047788:00:54.775807"), (interval{0, 0, microseconds::max()}));
    EXPECT_EQ(from_column<interval>("P1Y2M3DT4H5M6.5S"), (interval{14, 3, 4h + 5min + 6500ms}));
    for (const char* other : {"@ 1 year 2 mons", "1-2 3 4:05:06", "1 fortnight", "1 day 04:65:00"}) {
        keel::parse_failure why;
        EXPECT_FALSE(keel::detail::parse_column<interval>(other, why)) << other;
        EXPECT_EQ(why.type, "value_error.duration") << other;
    }
}

TEST(IntervalCodecTest, DurationsAreIntervalsOfFixedLengthOnly) {
    EXPECT_EQ(parse<seconds>("PT1H30M"), 90min);
    EXPECT_EQ(parse<microseconds>("PT-0.25S"), -250ms);
    EXPECT_EQ(from_column<seconds>("36:00:00"), 36h);
    EXPECT_EQ(format(90min), "PT1H30M");
    EXPECT_EQ(format(microseconds(1)), "PT0.000001S");
    keel::parse_failure why;
    EXPECT_FALSE(keel::codec<seconds>::parse("P1D", why));  // a day is not always 24 hours
    EXPECT_NE(why.msg.find("keel::interval"), std::string::npos) << why.msg;
    EXPECT_FALSE(parse<seconds>("PT0.5S"));  // refused, not rounded
    EXPECT_FALSE(parse<hours>("PT30M"));
    EXPECT_FALSE((parse<duration<std::int8_t>>("PT200S")));  // beyond the count's range
    EXPECT_FALSE(from_column<seconds>("1 mon"));
}
