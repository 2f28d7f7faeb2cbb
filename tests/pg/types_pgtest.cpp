// keel's own types against a real PostgreSQL: what PostgreSQL reads from keel's parameters, and
// what keel reads back from its columns, for the edge values of each type.
#include <keel/bytes.hpp>
#include <keel/chrono.hpp>
#include <keel/database_error.hpp>
#include <keel/decimal.hpp>
#include <keel/enum.hpp>
#include <keel/interval.hpp>
#include <keel/json.hpp>
#include <keel/session.hpp>
#include <keel/uuid.hpp>

#include "../support/sku_codec.hpp"

#include <gtest/gtest.h>
#include <keel/app.hpp>
#include <keel/get_session.hpp>
#include <keel/model.hpp>
#include <keel/testing/client.hpp>
#include <keel/testing/postgres_environment.hpp>

#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

using keel::testing::parse_json;
using keel::testing::postgres_environment;
using namespace std::chrono;
using namespace std::chrono_literals;
using micro_time = sys_time<microseconds>;

namespace {

struct typed_row {
    std::int64_t id;
    keel::uuid key;
    micro_time created_at;
    micro_time local_at;  // a `timestamp` column: read as UTC
    year_month_day day;
    keel::bytes payload;
    std::optional<micro_time> deleted_at;
    KEEL_MODEL(typed_row, id, key, created_at, local_at, day, payload, deleted_at)
};

class TypesTest : public ::testing::Test {
protected:
    TypesTest() {
        keel::engine_options options;
        options.url = postgres_environment::server().url();
        options.pool_size = 2;
        engine_ = std::make_unique<keel::engine>(options);
        keel::session db(*engine_);
        db.exec("DROP TABLE IF EXISTS typed");
        db.exec(
            "CREATE TABLE typed (id bigserial PRIMARY KEY, key uuid NOT NULL, created_at timestamptz NOT "
            "NULL, "
            "local_at timestamp NOT NULL, day date NOT NULL, payload bytea NOT NULL, deleted_at "
            "timestamptz)");
        db.commit();
    }

    keel::session session() { return keel::session(*engine_); }

    // What PostgreSQL makes of a parameter, as its own text in UTC.
    template <class T>
    std::string seen_by_postgres(const T& value, const std::string& type) {
        auto db = session();
        db.exec("SET LOCAL TIME ZONE 'UTC'");
        return db.scalar<std::string>("SELECT $1::" + type + "::text", value);
    }

    std::unique_ptr<keel::engine> engine_;
};

const auto sample_key = *keel::uuid::parse("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");

keel::bytes every_byte() {
    keel::bytes all(256);
    for (int i = 0; i < 256; ++i) all[static_cast<std::size_t>(i)] = static_cast<std::byte>(i);
    return all;
}

}  // namespace

TEST_F(TypesTest, PostgresReadsTimestampParametersExactly) {
    EXPECT_EQ(
        seen_by_postgres(micro_time(sys_days(2024y / 2 / 29) + 23h + 59min + 59s + 999999us), "timestamptz"),
        "2024-02-29 23:59:59.999999+00");
    EXPECT_EQ(seen_by_postgres(micro_time(sys_days(1970y / 1 / 1) - 1us), "timestamptz"),
              "1969-12-31 23:59:59.999999+00");
    EXPECT_EQ(seen_by_postgres(sys_seconds(sys_days(1000y / 1 / 1)), "timestamptz"),
              "1000-01-01 00:00:00+00");
    EXPECT_EQ(seen_by_postgres(sys_days(9999y / 12 / 31), "timestamp"), "9999-12-31 00:00:00");
    EXPECT_EQ(seen_by_postgres(year_month_day(2024y / 2 / 29), "date"), "2024-02-29");
    EXPECT_EQ(seen_by_postgres(year_month_day(year(1) / 1 / 1), "date"), "0001-01-01");
}

TEST_F(TypesTest, NumbersRoundTripAtTheirEdges) {
    auto db = session();
    using i16 = std::numeric_limits<std::int16_t>;
    using i32 = std::numeric_limits<std::int32_t>;
    using i64 = std::numeric_limits<std::int64_t>;
    EXPECT_EQ(db.scalar<std::int16_t>("SELECT $1::smallint", i16::min()), i16::min());
    EXPECT_EQ(db.scalar<std::int16_t>("SELECT $1::smallint", i16::max()), i16::max());
    EXPECT_EQ(db.scalar<std::int32_t>("SELECT $1::integer", i32::min()), i32::min());
    EXPECT_EQ(db.scalar<std::int64_t>("SELECT $1::bigint", i64::min()), i64::min());
    EXPECT_EQ(db.scalar<std::int64_t>("SELECT $1::bigint", i64::max()), i64::max());
    EXPECT_THROW(db.scalar<std::int16_t>("SELECT 32768::integer"), std::runtime_error);  // never wrapped
    using f64 = std::numeric_limits<double>;
    for (const double x : {f64::max(), f64::lowest(), f64::min(), f64::denorm_min(), -f64::denorm_min(),
                           f64::infinity(), -f64::infinity(), 0.1, -0.0}) {
        const auto back = db.scalar<double>("SELECT $1::float8", x);
        EXPECT_EQ(back, x);
        EXPECT_EQ(std::signbit(back), std::signbit(x)) << x;  // -0 stays -0
    }
    EXPECT_TRUE(std::isnan(db.scalar<double>("SELECT $1::float8", f64::quiet_NaN())));
    using f32 = std::numeric_limits<float>;
    for (const float x : {f32::max(), f32::lowest(), f32::denorm_min(), f32::infinity(), -0.0f, 0.1f}) {
        const auto back = db.scalar<float>("SELECT $1::float4", x);
        EXPECT_EQ(back, x);
        EXPECT_EQ(std::signbit(back), std::signbit(x)) << x;
    }
    EXPECT_EQ(db.scalar<std::string>("SELECT $1::float8::text", -0.0), "-0");
}

TEST_F(TypesTest, TimeColumnsAndParametersRoundTrip) {
    using time_of_day = hh_mm_ss<microseconds>;
    EXPECT_EQ(seen_by_postgres(time_of_day(23h + 59min + 59s + 999999us), "time"), "23:59:59.999999");
    auto db = session();
    EXPECT_EQ(db.scalar<time_of_day>("SELECT '07:05:03.1'::time").to_duration(), 7h + 5min + 3s + 100ms);
    EXPECT_EQ(db.scalar<time_of_day>("SELECT $1::time", time_of_day(0s)).to_duration(), 0s);
    EXPECT_THROW(db.scalar<time_of_day>("SELECT '24:00:00'::time"),
                 std::runtime_error);  // PostgreSQL allows it
}

TEST_F(TypesTest, IntervalsRoundTripInBothIntervalStylesKeelReads) {
    using keel::interval;
    const std::vector<interval> samples{
        {14, 3, 4h + 5min + 6500ms},
        {-14, 3, -(4h + 5min + 6s)},
        {0, 0, -500ms},
        {0, 0, 1us},
        {},
        {std::numeric_limits<std::int32_t>::max(), std::numeric_limits<std::int32_t>::min(),
         microseconds::max()},
    };
    for (const char* style : {"postgres", "iso_8601"}) {
        auto db = session();
        db.exec(std::string("SET LOCAL IntervalStyle = ") + style);
        for (const auto& value : samples)
            EXPECT_EQ(db.scalar<interval>("SELECT $1::interval", value), value) << style;
        EXPECT_EQ(db.scalar<interval>("SELECT '1 mon 1 day 25:00:00'::interval"), (interval{1, 1, 25h}))
            << style;
        EXPECT_EQ(db.scalar<seconds>("SELECT '90 minutes'::interval"), 90min) << style;
        EXPECT_THROW(db.scalar<seconds>("SELECT '1 day'::interval"), std::runtime_error) << style;
        EXPECT_EQ(db.scalar<std::vector<interval>>("SELECT ARRAY['1 day', '-00:00:01']::interval[]"),
                  (std::vector<interval>{{0, 1, 0us}, {0, 0, -1s}}))
            << style;
    }
    EXPECT_EQ(seen_by_postgres(interval{14, 3, 4h + 5min + 6500ms}, "interval"),
              "1 year 2 mons 3 days 04:05:06.5");
    EXPECT_EQ(seen_by_postgres(interval{0, 0, -500ms}, "interval"), "-00:00:00.5");
    auto db = session();
    db.exec("SET LOCAL IntervalStyle = sql_standard");
    try {
        db.scalar<interval>("SELECT '1 year 2 mons'::interval AS lasts");
        FAIL() << "an interval in IntervalStyle sql_standard was read";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("IntervalStyle"), std::string::npos) << e.what();
    }
}

TEST_F(TypesTest, PostgresReadsUuidAndByteaParametersExactly) {
    EXPECT_EQ(seen_by_postgres(sample_key, "uuid"), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
    EXPECT_EQ(seen_by_postgres(keel::uuid(), "uuid"), "00000000-0000-0000-0000-000000000000");
    auto db = session();
    EXPECT_EQ(db.scalar<std::int64_t>("SELECT length($1::bytea)", every_byte()), 256);
    EXPECT_EQ(db.scalar<std::int64_t>("SELECT get_byte($1::bytea, 255)", every_byte()), 255);
    EXPECT_EQ(db.scalar<std::int64_t>("SELECT length($1::bytea)", keel::bytes{}), 0);
}

TEST_F(TypesTest, EveryColumnRoundTripsIntoAModelAndOutAsJson) {
    const micro_time created = sys_days(1969y / 7 / 20) + 20h + 17min + 40s + 1us;
    const micro_time local = sys_days(2024y / 2 / 29) + 12h;
    {
        auto db = session();
        db.exec(
            "INSERT INTO typed (key, created_at, local_at, day, payload, deleted_at) "
            "VALUES ($1, $2, $3, $4, $5, $6)",
            sample_key, created, local, year_month_day(2024y / 2 / 29), every_byte(),
            std::optional<micro_time>());
        db.commit();
    }
    auto db = session();
    db.exec("SET LOCAL TIME ZONE 'Asia/Kolkata'");  // the server writes +05:30 offsets: the same instants
    const auto row = db.one<typed_row>("SELECT * FROM typed");
    EXPECT_EQ(row.key, sample_key);
    EXPECT_EQ(row.created_at, created);
    EXPECT_EQ(row.local_at, local);
    EXPECT_EQ(row.day, 2024y / 2 / 29);
    EXPECT_EQ(row.payload, every_byte());
    EXPECT_FALSE(row.deleted_at);

    std::string json;
    keel::detail::append_json(json, row);
    EXPECT_NE(json.find(R"("created_at":"1969-07-20T20:17:40.000001Z")"), std::string::npos) << json;
    EXPECT_NE(json.find(R"("local_at":"2024-02-29T12:00:00Z")"), std::string::npos) << json;
    EXPECT_NE(json.find(R"("key":"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")"), std::string::npos) << json;
    EXPECT_NE(json.find(R"("payload":"AAECAwQF)"), std::string::npos) << json;
    EXPECT_NE(json.find(R"("deleted_at":null)"), std::string::npos) << json;
}

TEST_F(TypesTest, HistoricalOffsetsToTheSecondAreRead) {
    auto db = session();
    db.exec("SET LOCAL TIME ZONE 'Europe/Amsterdam'");  // +00:19:32 in 1900
    const auto text = db.scalar<std::string>("SELECT '1900-01-01 00:00:00Z'::timestamptz::text");
    EXPECT_EQ(text, "1900-01-01 00:19:32+00:19:32");
    EXPECT_EQ(db.scalar<micro_time>("SELECT '1900-01-01 00:00:00Z'::timestamptz"),
              micro_time(sys_days(1900y / 1 / 1)));
}

TEST_F(TypesTest, ColumnsThatDoNotMapSayWhichColumnWhatTextAndWhy) {
    auto db = session();
    try {
        db.scalar<micro_time>("SELECT 'infinity'::timestamptz AS ends");
        FAIL() << "infinity was read";
    } catch (const std::runtime_error& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("column #0"), std::string::npos) << what;
        EXPECT_NE(what.find("'infinity'"), std::string::npos) << what;
        EXPECT_NE(what.find("no std::chrono value"), std::string::npos) << what;
    }
    try {
        db.one<typed_row>(
            "SELECT 1::bigint AS id, gen_random_uuid() AS key, now() AS created_at, "
            "now()::timestamp AS local_at, NULL::date AS day, ''::bytea AS payload, "
            "NULL::timestamptz AS deleted_at");
        FAIL() << "NULL was read into a non-optional field";
    } catch (const std::runtime_error& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("column day (NULL)"), std::string::npos) << what;
        EXPECT_NE(what.find("std::optional"), std::string::npos) << what;
    }
    try {
        db.scalar<sys_seconds>("SELECT '2026-12-02 01:02:03.5+00'::timestamptz");
        FAIL() << "a fraction was dropped";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("precision"), std::string::npos) << e.what();
    }
}

TEST_F(TypesTest, AUsersOwnCodecServesParametersAndColumns) {
    auto db = session();
    EXPECT_EQ(db.scalar<sku>("SELECT lower($1::text)", sku{"ABC-123"}).code, "abc-123");
    EXPECT_THROW(db.scalar<sku>("SELECT 'no'"), std::runtime_error);
}

namespace shop {
enum class order_state { pending, paid, shipped };
KEEL_ENUM(order_state, pending, paid, shipped)

struct address {
    std::string city;
    std::optional<std::string> zip;
    KEEL_MODEL(address, city, zip)
};
}  // namespace shop

TEST_F(TypesTest, ArraysRoundTripWithNullsQuotesAndEmptiness) {
    auto db = session();
    using texts_type = std::vector<std::optional<std::string>>;
    const texts_type texts{"plain", "", "NULL", std::nullopt, "a,b", "q\"uo\\te", "{}", " spaced ", "ünï"};
    EXPECT_EQ(db.scalar<std::string>("SELECT array_length($1::text[], 1)::text", texts), "9");
    EXPECT_EQ(db.scalar<bool>("SELECT ($1::text[])[4] IS NULL", texts), true);
    EXPECT_EQ(db.scalar<std::string>("SELECT ($1::text[])[3]", texts), "NULL");  // the word, not NULL
    EXPECT_EQ(db.scalar<texts_type>("SELECT $1::text[]", texts), texts);
    EXPECT_EQ(db.scalar<std::vector<std::int64_t>>("SELECT '{}'::bigint[]"), std::vector<std::int64_t>{});
    const std::vector<std::int32_t> edges{std::numeric_limits<std::int32_t>::min(), -1, 0,
                                          std::numeric_limits<std::int32_t>::max()};
    EXPECT_EQ(db.scalar<std::vector<std::int32_t>>("SELECT $1::int[]", edges), edges);
    const std::vector<keel::bytes> blobs{keel::bytes{}, every_byte()};
    EXPECT_EQ(db.scalar<std::vector<keel::bytes>>("SELECT $1::bytea[]", blobs), blobs);
    const std::vector<micro_time> times{micro_time(sys_days(1969y / 12 / 31) + 1us),
                                        micro_time(sys_days(2024y / 2 / 29) + 12h + 345678us)};
    EXPECT_EQ(db.scalar<std::vector<micro_time>>("SELECT $1::timestamptz[]", times), times);
    EXPECT_EQ(db.scalar<std::vector<keel::uuid>>("SELECT ARRAY[$1::uuid, $1::uuid]", sample_key),
              (std::vector<keel::uuid>{sample_key, sample_key}));
    try {
        db.scalar<std::vector<std::int64_t>>("SELECT '{1,NULL}'::bigint[] AS ids");
        FAIL() << "a NULL element was read into a non-optional";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("column #0[2]"), std::string::npos) << e.what();
    }
    EXPECT_THROW(db.scalar<std::vector<std::int64_t>>("SELECT '{{1,2},{3,4}}'::bigint[]"),
                 std::runtime_error);
    EXPECT_THROW(db.scalar<std::vector<std::int64_t>>("SELECT '[0:1]={1,2}'::bigint[]"), std::runtime_error);
}

TEST_F(TypesTest, JsonbHoldsNlohmannValuesAndModels) {
    auto db = session();
    const auto doc = parse_json(R"({"a":[1,2.5,{"b":null}],"ünï":"\u00e9\n","big":9007199254740993})");
    EXPECT_EQ(db.scalar<nlohmann::json>("SELECT $1::jsonb", doc), doc);
    EXPECT_EQ(db.scalar<std::string>("SELECT $1::jsonb->'a'->2->>'b' IS NULL", doc), "t");
    const shop::address home{"Zürich", std::nullopt};
    const auto back = db.scalar<shop::address>("SELECT $1::jsonb", home);
    EXPECT_EQ(back.city, "Zürich");
    EXPECT_FALSE(back.zip);
    EXPECT_EQ(db.scalar<std::string>("SELECT $1::jsonb->>'city'", home), "Zürich");
    try {
        db.scalar<shop::address>("SELECT '{\"zip\": 8000}'::jsonb AS addr");
        FAIL() << "a jsonb that does not fit the model was read";
    } catch (const std::runtime_error& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("column #0"), std::string::npos) << what;
        EXPECT_NE(what.find("at city: field required"), std::string::npos) << what;
    }
}

TEST_F(TypesTest, PostgresEnumsMapToCppEnumsByName) {
    {
        auto db = session();
        db.exec("DROP TABLE IF EXISTS orders");
        db.exec("DROP TYPE IF EXISTS order_state");
        db.exec("CREATE TYPE order_state AS ENUM ('pending', 'paid', 'shipped')");
        db.exec("CREATE TABLE orders (id int PRIMARY KEY, state order_state NOT NULL)");
        db.exec("INSERT INTO orders VALUES (1, $1), (2, $2)", shop::order_state::paid,
                shop::order_state::shipped);
        db.commit();
    }
    auto db = session();
    EXPECT_EQ(db.scalar<shop::order_state>("SELECT state FROM orders WHERE id = 1"), shop::order_state::paid);
    EXPECT_EQ(
        db.scalar<std::int64_t>("SELECT count(*) FROM orders WHERE state = $1", shop::order_state::shipped),
        1);
    EXPECT_EQ(db.scalar<std::vector<shop::order_state>>("SELECT enum_range(NULL::order_state)"),
              (std::vector<shop::order_state>{shop::order_state::pending, shop::order_state::paid,
                                              shop::order_state::shipped}));
    try {
        db.scalar<shop::order_state>("SELECT 'lost' AS state");
        FAIL() << "an unknown label was read";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("permitted: 'pending', 'paid', 'shipped'"), std::string::npos)
            << e.what();
    }
}

TEST_F(TypesTest, NumericIsExactAndOverflowIsADatabaseError) {
    auto db = session();
    const auto d = [](const char* text) { return *keel::decimal::parse(text); };
    const auto big = d("-1234567890123456789012345678901234567890.0123456789012345");
    EXPECT_EQ(db.scalar<std::string>("SELECT $1::numeric::text", big), big.to_string());
    EXPECT_EQ(db.scalar<keel::decimal>("SELECT $1::numeric", big).to_string(), big.to_string());
    EXPECT_EQ(db.scalar<keel::decimal>("SELECT $1::numeric + $2::numeric", d("0.1"), d("0.2")).to_string(),
              "0.3");
    EXPECT_EQ(db.scalar<keel::decimal>("SELECT 12.5::numeric(12,2)").to_string(), "12.50");
    EXPECT_EQ(db.scalar<std::vector<keel::decimal>>("SELECT ARRAY[1.10, -0.001]::numeric[]"),
              (std::vector<keel::decimal>{d("1.1"), d("-0.001")}));
    EXPECT_THROW(db.scalar<keel::decimal>("SELECT 'NaN'::numeric"), std::runtime_error);
    try {
        db.scalar<keel::decimal>("SELECT $1::numeric(4,2)", d("123.45"));
        FAIL() << "an overflowing numeric was accepted";
    } catch (const keel::database_error& e) {
        EXPECT_EQ(e.sqlstate(), "22003") << e.what();
    }
}

namespace {

// One column of each type keel maps, as a handler takes it from JSON and gives it back.
struct every_type_row {
    std::int64_t id;
    std::int16_t small;
    std::int32_t whole;
    double ratio;
    bool flag;
    std::string name;
    keel::uuid key;
    micro_time created_at;
    micro_time local_at;
    year_month_day day;
    hh_mm_ss<microseconds> opens;
    keel::interval lasts;
    keel::decimal price;
    keel::bytes payload;
    nlohmann::json doc;
    shop::address home;
    std::vector<std::string> tags;
    shop::order_state state;
    std::optional<std::string> note;
    KEEL_MODEL(every_type_row, id, small, whole, ratio, flag, name, key, created_at, local_at, day, opens,
               lasts, price, payload, doc, home, tags, state, note)
};

void create_every_type_table(keel::session& db) {
    db.exec("DROP TABLE IF EXISTS every_type");
    db.exec("DROP TYPE IF EXISTS every_state");
    db.exec("CREATE TYPE every_state AS ENUM ('pending', 'paid', 'shipped')");
    db.exec(
        "CREATE TABLE every_type (id bigserial PRIMARY KEY, small smallint NOT NULL, whole integer NOT NULL, "
        "ratio double precision NOT NULL, flag boolean NOT NULL, name text NOT NULL, key uuid NOT NULL, "
        "created_at timestamptz NOT NULL, local_at timestamp NOT NULL, day date NOT NULL, "
        "opens time NOT NULL, lasts interval NOT NULL, price numeric(12,2) NOT NULL, payload bytea NOT NULL, "
        "doc jsonb NOT NULL, home jsonb NOT NULL, tags text[] NOT NULL, state every_state NOT NULL, note "
        "text)");
    db.commit();
}

constexpr const char* insert_every_type =
    "INSERT INTO every_type (small, whole, ratio, flag, name, key, created_at, local_at, day, opens, lasts, "
    "price, payload, doc, home, tags, state, note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, "
    "$12, $13, $14, $15, $16, $17, $18) RETURNING *";

}  // namespace

TEST_F(TypesTest, OneColumnOfEveryTypeRoundTripsThroughParametersIntoAModelAndOutAsJson) {
    auto setup = session();
    create_every_type_table(setup);
    const every_type_row sent{0,
                              std::numeric_limits<std::int16_t>::min(),
                              std::numeric_limits<std::int32_t>::max(),
                              -0.0,
                              false,
                              "ünï \"quoted\" \\ {a,b}",
                              sample_key,
                              micro_time(sys_days(1969y / 7 / 20) + 20h + 17min + 40s + 1us),
                              micro_time(sys_days(2024y / 2 / 29) + 12h),
                              2024y / 2 / 29,
                              hh_mm_ss<microseconds>(23h + 59min + 59s + 999999us),
                              keel::interval{-14, 3, -(4h + 5min + 6s + 7us)},
                              *keel::decimal::parse("-9999999999.99"),
                              every_byte(),
                              parse_json(R"({"nested": [1, 2.5, null, {"deep": ["ünï"]}]})"),
                              shop::address{"Zürich", "8000"},
                              {},
                              shop::order_state::shipped,
                              std::nullopt};
    auto db = session();
    db.exec("SET LOCAL TIME ZONE 'America/St_Johns'");  // -03:30: the offsets the session writes are honoured
    const auto back = db.one<every_type_row>(insert_every_type, sent.small, sent.whole, sent.ratio, sent.flag,
                                             sent.name, sent.key, sent.created_at, sent.local_at, sent.day,
                                             sent.opens, sent.lasts, sent.price, sent.payload, sent.doc,
                                             sent.home, sent.tags, sent.state, sent.note);
    EXPECT_GT(back.id, 0);
    EXPECT_EQ(back.small, sent.small);
    EXPECT_EQ(back.whole, sent.whole);
    EXPECT_TRUE(back.ratio == 0.0 && std::signbit(back.ratio)) << back.ratio;
    EXPECT_EQ(back.flag, sent.flag);
    EXPECT_EQ(back.name, sent.name);
    EXPECT_EQ(back.key, sent.key);
    EXPECT_EQ(back.created_at, sent.created_at);
    EXPECT_EQ(back.local_at, sent.local_at);
    EXPECT_EQ(back.day, sent.day);
    EXPECT_EQ(back.opens.to_duration(), sent.opens.to_duration());
    EXPECT_EQ(back.lasts, sent.lasts);
    EXPECT_EQ(back.price, sent.price);
    EXPECT_EQ(back.payload, sent.payload);
    EXPECT_EQ(back.doc, sent.doc);
    EXPECT_EQ(back.home.city, sent.home.city);
    EXPECT_EQ(back.home.zip, sent.home.zip);
    EXPECT_EQ(back.tags, sent.tags);  // an empty array
    EXPECT_EQ(back.state, sent.state);
    EXPECT_EQ(back.note, sent.note);  // NULL

    std::string out;
    keel::detail::append_json(out, back);
    auto served = parse_json(out);
    served.erase("id");
    auto expected = parse_json(R"({"small": -32768, "whole": 2147483647, "ratio": -0.0, "flag": false,
        "name": "ünï \"quoted\" \\ {a,b}", "key": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        "created_at": "1969-07-20T20:17:40.000001Z", "local_at": "2024-02-29T12:00:00Z", "day": "2024-02-29",
        "opens": "23:59:59.999999", "lasts": "P-1Y-2M3DT-4H-5M-6.000007S", "price": "-9999999999.99",
        "doc": {"nested": [1, 2.5, null, {"deep": ["ünï"]}]}, "home": {"city": "Zürich", "zip": "8000"},
        "tags": [], "state": "shipped", "note": null})");
    std::string payload;  // base64 (its own unit test checks the encoding)
    keel::detail::append_json(payload, every_byte());
    expected["payload"] = parse_json(payload);
    EXPECT_EQ(served, expected);
}

TEST_F(TypesTest, OneColumnOfEveryTypeTravelsFromJsonThroughPostgresAndBack) {
    {
        auto db = session();
        create_every_type_table(db);
    }
    keel::app app;
    keel::engine_options options;
    options.url = postgres_environment::server().url();
    app.provide<keel::engine>(keel::scope::app,
                              [options] { return std::make_shared<keel::engine>(options); });
    app.provide<keel::session_factory>(keel::scope::app,
                                       [](keel::engine& e) { return keel::session_factory{e}; });
    app.post("/every", [](keel::body<every_type_row> in, keel::depends<keel::get_session> db) {
        return db->one<every_type_row>(insert_every_type, in->small, in->whole, in->ratio, in->flag, in->name,
                                       in->key, in->created_at, in->local_at, in->day, in->opens, in->lasts,
                                       in->price, in->payload, in->doc, in->home, in->tags, in->state,
                                       in->note);
    });
    // Every type a request value can have, each in the WHERE clause as a parameter.
    app.get(
        "/every/{key}",
        [](keel::path<keel::uuid> key, keel::query<year_month_day, "day"> day,
           keel::query<micro_time, "after"> after, keel::query<hh_mm_ss<microseconds>, "opens"> opens,
           keel::query<keel::interval, "lasts"> lasts, keel::query<keel::decimal, "price"> price,
           keel::query<shop::order_state, "state"> state, keel::query<bool, "flag"> flag,
           keel::query<std::vector<std::string>, "tag"> tags, keel::header<std::int16_t, "x-small"> small,
           keel::depends<keel::get_session> db) {
            return db->all<every_type_row>(
                "SELECT * FROM every_type WHERE key = $1 AND day = $2 AND created_at > $3 AND opens = $4 "
                "AND lasts = $5 AND price = $6 AND state = $7 AND flag = $8 AND tags = $9 AND small = $10",
                *key, *day, *after, *opens, *lasts, *price, *state, *flag, *tags, *small);
        });
    keel::testing::client c{app};
    const auto in = parse_json(R"({"id": 0, "small": -32768, "whole": 2147483647, "ratio": 0.1, "flag": true,
        "name": "ünï \"quoted\"", "key": "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11",
        "created_at": "2026-12-02T09:30:00.123456+01:00", "local_at": "2026-12-02T09:30:00Z",
        "day": "2026-12-02", "opens": "09:30:00.5", "lasts": "P1M2DT3H4M5.000006S", "price": "19.99",
        "payload": "3q2+7w==", "doc": {"a": [1, null, {"b": "c"}]}, "home": {"city": "Zürich", "zip": null},
        "tags": ["new", "", "a,b"], "state": "paid", "note": null})");
    const auto created = c.post("/every", in);
    ASSERT_EQ(created.status(), keel::status::ok) << created;
    auto answer = created.json();
    answer.erase("id");
    EXPECT_EQ(answer, parse_json(R"({"small": -32768, "whole": 2147483647, "ratio": 0.1, "flag": true,
        "name": "ünï \"quoted\"", "key": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        "created_at": "2026-12-02T08:30:00.123456Z", "local_at": "2026-12-02T09:30:00Z",
        "day": "2026-12-02", "opens": "09:30:00.500000", "lasts": "P1M2DT3H4M5.000006S", "price": "19.99",
        "payload": "3q2+7w==", "doc": {"a": [1, null, {"b": "c"}]}, "home": {"city": "Zürich", "zip": null},
        "tags": ["new", "", "a,b"], "state": "paid", "note": null})"));

    const std::string found_target =
        "/every/a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11?day=2026-12-02&after=2026-12-02T08:30:00.123455Z"
        "&opens=09:30:00.5&lasts=P1M2DT3H4M5.000006S&price=19.990&state=paid&flag=true&tag=new&tag=&tag=a,b";
    const auto found = c.get(found_target, {{"X-Small", "-32768"}});
    ASSERT_EQ(found.status(), keel::status::ok) << found;
    ASSERT_EQ(found.json().size(), 1u) << found;
    EXPECT_EQ(found.json()[0], created.json());

    const auto refused = c.get(
        "/every/"
        "a0eebc99?day=2026-13-01&after=yesterday&opens=25:00:00&lasts=P1X&price=abc&state=lost&flag=maybe",
        {{"X-Small", "32768"}});
    ASSERT_EQ(refused.status(), keel::status::unprocessable_entity) << refused;
    std::vector<std::string> named;
    const auto refusal = refused.json();
    for (const auto& error : refusal["detail"]) named.push_back(error["loc"][1].get<std::string>());
    EXPECT_EQ(named, (std::vector<std::string>{"key", "day", "after", "opens", "lasts", "price", "state",
                                               "flag", "x-small"}));
}
