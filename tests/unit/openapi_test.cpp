// The OpenAPI document an app makes of its routes' own types.

#include <gtest/gtest.h>
#include <keel/json.hpp>
#include <keel/keel.hpp>
#include <keel/testing/client.hpp>
#include <keel/testing/json.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

using keel::testing::client;
using keel::testing::parse_json;

namespace shop {
enum class state { pending, paid };
KEEL_ENUM(state, pending, paid)

struct line {
    std::string sku;
    std::int32_t quantity;
    KEEL_MODEL(line, sku, quantity)
};

struct order {
    keel::uuid id;
    std::chrono::sys_time<std::chrono::microseconds> placed_at;
    std::chrono::year_month_day due;
    std::chrono::hh_mm_ss<std::chrono::microseconds> slot;
    keel::decimal total;
    keel::bytes receipt;
    keel::interval warranty;
    std::chrono::seconds timeout;
    nlohmann::json extra;
    std::vector<std::string> tags;
    std::optional<std::int64_t> coupon;
    state status;
    std::map<std::string, std::int64_t> counts;
    std::int16_t small;
    std::uint8_t tiny;
    std::uint64_t big;
    double ratio;
    float weight;
    bool gift;
    std::vector<line> lines;
    KEEL_MODEL(order, id, placed_at, due, slot, total, receipt, warranty, timeout, extra, tags, coupon,
               status, counts, small, tiny, big, ratio, weight, gift, lines)
};
}  // namespace shop

namespace a {
struct item {
    int x;
    KEEL_MODEL(item, x)
};
}  // namespace a
namespace b {
struct item {
    std::string y;
    KEEL_MODEL(item, y)
};
}  // namespace b

namespace {

struct user {
    std::int64_t id;
    std::string email;
    std::optional<std::string> nickname;
    KEEL_MODEL(user, id, email, nickname)
};

struct tree {
    std::string name;
    std::vector<tree> children;
    KEEL_MODEL(tree, name, children)
};

struct token {
    std::string value;
};

token get_token(keel::header<std::string, "x-api-key"> key) {
    return {*key};
}

nlohmann::json document(keel::app& app) {
    return parse_json(app.openapi_document());
}

const nlohmann::json& property(const nlohmann::json& doc, const std::string& model, const std::string& name) {
    return doc.at("components").at("schemas").at(model).at("properties").at(name);
}

}  // namespace

TEST(OpenApiTest, DocumentsEachOperationsParametersBodyAndResponses) {
    keel::app app;
    app.openapi({.title = "users", .version = "2.1.0", .description = "The user service"});
    keel::router users{"/users", {"users"}};
    users
        .get("/{id}",
             [](keel::path<std::int64_t> id, keel::query<int, "limit", 20>,
                keel::query<std::optional<std::string>, "q">, keel::query<std::vector<int>, "tag">,
                keel::depends<get_token>) {
                 return user{*id, "a@b.c", std::nullopt};
             })
        .summary("Read a user")
        .response(keel::status::not_found, "No such user");
    users.post("", [](keel::body<user> in) { return *in; })
        .status(keel::status::created)
        .operation_id("create_user");
    app.include(users);
    app.get("/plain", [] { return keel::response::text("hi"); }).media_type("text/plain").deprecated();
    app.delete_("/users/{id}", [](keel::path<std::int64_t, "id">) {}).status(keel::status::no_content);
    app.get("/hidden", [] { return 1; }).include_in_schema(false);

    const auto doc = document(app);
    EXPECT_EQ(doc["openapi"], "3.1.0");
    EXPECT_EQ(doc["info"],
              parse_json(R"({"title":"users","version":"2.1.0","description":"The user service"})"));

    const auto& get = doc["paths"]["/users/{id}"]["get"];
    EXPECT_EQ(get["tags"], parse_json(R"(["users"])"));
    EXPECT_EQ(get["summary"], "Read a user");
    EXPECT_EQ(get["operationId"], "get_users_id");
    EXPECT_EQ(get["parameters"], parse_json(R"([
        {"name":"id","in":"path","required":true,"schema":{"type":"integer","format":"int64"}},
        {"name":"limit","in":"query","required":false,"schema":{"type":"integer","format":"int32","default":20}},
        {"name":"q","in":"query","required":false,"schema":{"type":"string"}},
        {"name":"tag","in":"query","required":false,"schema":{"type":"array","items":{"type":"integer","format":"int32"}}},
        {"name":"x-api-key","in":"header","required":true,"schema":{"type":"string"}}])"));
    EXPECT_EQ(get["responses"]["200"]["content"]["application/json"]["schema"],
              parse_json(R"({"$ref":"#/components/schemas/user"})"));
    EXPECT_EQ(get["responses"]["422"]["content"]["application/json"]["schema"]["$ref"],
              "#/components/schemas/HTTPValidationError");
    EXPECT_EQ(get["responses"]["404"], parse_json(R"({"description":"No such user",
        "content":{"application/json":{"schema":{"$ref":"#/components/schemas/HTTPError"}}}})"));

    const auto& post = doc["paths"]["/users"]["post"];
    EXPECT_EQ(post["operationId"], "create_user");
    EXPECT_EQ(post["requestBody"], parse_json(R"({"required":true,
        "content":{"application/json":{"schema":{"$ref":"#/components/schemas/user"}}}})"));
    EXPECT_TRUE(post["responses"].contains("201"));
    EXPECT_FALSE(post["responses"].contains("200"));

    const auto& plain = doc["paths"]["/plain"]["get"];
    EXPECT_EQ(plain["deprecated"], true);
    EXPECT_EQ(plain["responses"], parse_json(R"({"200":{"description":"Successful Response",
        "content":{"text/plain":{}}}})"))
        << "no request value: no 422";

    EXPECT_EQ(doc["paths"]["/users/{id}"]["delete"]["responses"]["204"],
              parse_json(R"({"description":"Successful Response"})"));
    EXPECT_FALSE(doc["paths"].contains("/hidden"));
    EXPECT_FALSE(doc["paths"].contains("/openapi.json"));

    EXPECT_EQ(doc["components"]["schemas"]["user"], parse_json(R"({"type":"object",
        "properties":{"id":{"type":"integer","format":"int64"},"email":{"type":"string"},
                      "nickname":{"anyOf":[{"type":"string"},{"type":"null"}]}},
        "required":["id","email"]})"));
}

TEST(OpenApiTest, EveryMappedTypeHasItsSchema) {
    keel::app app;
    app.post("/orders", [](keel::body<shop::order> in) { return *in; });
    const auto doc = document(app);
    const auto field = [&](const std::string& name) { return property(doc, "order", name); };
    EXPECT_EQ(field("id"), parse_json(R"({"type":"string","format":"uuid"})"));
    EXPECT_EQ(field("placed_at"), parse_json(R"({"type":"string","format":"date-time"})"));
    EXPECT_EQ(field("due"), parse_json(R"({"type":"string","format":"date"})"));
    EXPECT_EQ(field("slot"), parse_json(R"({"type":"string","format":"time"})"));
    EXPECT_EQ(field("total")["format"], "decimal");
    EXPECT_EQ(field("total")["type"], "string");
    EXPECT_EQ(field("receipt"),
              parse_json(R"({"type":"string","format":"byte","contentEncoding":"base64"})"));
    EXPECT_EQ(field("warranty"), parse_json(R"({"type":"string","format":"duration"})"));
    EXPECT_EQ(field("timeout"), parse_json(R"({"type":"string","format":"duration"})"));
    EXPECT_EQ(field("extra"), parse_json("{}"));
    EXPECT_EQ(field("tags"), parse_json(R"({"type":"array","items":{"type":"string"}})"));
    EXPECT_EQ(field("coupon"),
              parse_json(R"({"anyOf":[{"type":"integer","format":"int64"},{"type":"null"}]})"));
    EXPECT_EQ(field("status"), parse_json(R"({"$ref":"#/components/schemas/state"})"));
    EXPECT_EQ(doc["components"]["schemas"]["state"],
              parse_json(R"({"type":"string","enum":["pending","paid"]})"));
    EXPECT_EQ(field("counts"),
              parse_json(R"({"type":"object","additionalProperties":{"type":"integer","format":"int64"}})"));
    EXPECT_EQ(field("small"), parse_json(R"({"type":"integer","minimum":-32768,"maximum":32767})"));
    EXPECT_EQ(field("tiny"), parse_json(R"({"type":"integer","minimum":0,"maximum":255})"));
    EXPECT_EQ(field("big"), parse_json(R"({"type":"integer","minimum":0,"maximum":18446744073709551615})"));
    EXPECT_EQ(field("ratio"), parse_json(R"({"type":"number","format":"double"})"));
    EXPECT_EQ(field("weight"), parse_json(R"({"type":"number","format":"float"})"));
    EXPECT_EQ(field("gift"), parse_json(R"({"type":"boolean"})"));
    EXPECT_EQ(field("lines"), parse_json(R"({"type":"array","items":{"$ref":"#/components/schemas/line"}})"));
    EXPECT_EQ(doc["components"]["schemas"]["line"]["required"], parse_json(R"(["sku","quantity"])"));
    const auto& required = doc["components"]["schemas"]["order"]["required"];
    EXPECT_EQ(std::count(required.begin(), required.end(), "coupon"), 0);
    EXPECT_EQ(required.size(), 19U);
}

TEST(OpenApiTest, TypesOfOneNameInTwoNamespacesGetQualifiedNames) {
    keel::app app;
    app.get("/a", [] { return a::item{1}; });
    app.get("/b", [] { return b::item{"y"}; });
    const auto schemas = document(app)["components"]["schemas"];
    EXPECT_TRUE(schemas.contains("a.item")) << schemas;
    EXPECT_TRUE(schemas.contains("b.item")) << schemas;
    EXPECT_FALSE(schemas.contains("item"));
    EXPECT_EQ(
        document(
            app)["paths"]["/b"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/b.item");
}

TEST(OpenApiTest, IsServedAtItsPathAsBuiltAndCanMoveOrStop) {
    {
        keel::app app;
        app.get("/x", [] { return 1; });
        client c{app};
        const auto res = c.get("/openapi.json");
        EXPECT_EQ(res.status(), keel::status::ok) << res;
        EXPECT_EQ(res.header("content-type"), "application/json");
        EXPECT_EQ(res.text(), app.openapi_document());
    }
    {
        keel::app app;
        app.openapi({.path = "/api/schema.json"});
        app.get("/x", [] { return 1; });
        client c{app};
        EXPECT_EQ(c.get("/api/schema.json").status(), keel::status::ok);
        EXPECT_EQ(c.get("/openapi.json").status(), keel::status::not_found);
    }
    {
        keel::app app;
        app.openapi({.path = ""});
        app.get("/x", [] { return 1; });
        client c{app};
        EXPECT_EQ(c.get("/openapi.json").status(), keel::status::not_found);
        EXPECT_EQ(parse_json(app.openapi_document())["paths"].size(), 1U) << "still made for code and tests";
    }
    {
        keel::app app;
        app.get("/openapi.json", [] { return 1; });
        EXPECT_THROW(app.build(), std::logic_error) << "a route of the app's own at the document's path";
    }
}

TEST(OpenApiTest, OperationIdsStayUnique) {
    keel::app app;
    app.get("/a-b", [] { return 1; });
    app.get("/a/b", [] { return 1; });
    const auto paths = document(app)["paths"];
    EXPECT_EQ(paths["/a-b"]["get"]["operationId"], "get_a_b");
    EXPECT_EQ(paths["/a/b"]["get"]["operationId"], "get_a_b_2");
}

TEST(OpenApiTest, AModelThatHoldsItselfRefersToItself) {
    keel::app app;
    app.get("/tree", [] { return tree{"root", {tree{"leaf", {}}}}; });
    const auto doc = document(app);
    EXPECT_EQ(property(doc, "tree", "children"),
              parse_json(R"({"type":"array","items":{"$ref":"#/components/schemas/tree"}})"));
    client c{app};
    EXPECT_EQ(c.get("/tree").json(),
              parse_json(R"({"name":"root","children":[{"name":"leaf","children":[]}]})"));
}

TEST(OpenApiTest, TheDocsPageIsServedWithSwaggerUisOwnFiles) {
    keel::app app;
    app.openapi({.title = "A & B"});
    app.get("/x", [] { return 1; });
    client c{app};
    const auto page = c.get("/docs");
    ASSERT_EQ(page.status(), keel::status::ok) << page;
    EXPECT_EQ(page.header("content-type"), "text/html; charset=utf-8");
    EXPECT_NE(page.text().find("<title>A &amp; B - Swagger UI</title>"), std::string::npos) << page.text();
    EXPECT_NE(page.text().find("<script src=\"docs/swagger-ui-bundle.js\">"), std::string::npos)
        << page.text();
    EXPECT_NE(page.text().find("href=\"docs/swagger-ui.css\""), std::string::npos) << page.text();
    EXPECT_EQ(page.text().find("<script>"), std::string::npos) << "no inline script: " << page.text();

    const auto start = c.get("/docs/swagger-initializer.js");
    ASSERT_EQ(start.status(), keel::status::ok);
    EXPECT_NE(start.text().find("url: \"openapi.json\""), std::string::npos) << start.text();

    const auto script = c.get("/docs/swagger-ui-bundle.js");
    ASSERT_EQ(script.status(), keel::status::ok);
    EXPECT_EQ(script.header("content-type"), "text/javascript; charset=utf-8");
    EXPECT_EQ(script.header("cache-control"), "public, max-age=86400");
    EXPECT_GT(script.text().size(), 1000000U) << "the whole of swagger-ui-bundle.js";
    EXPECT_NE(script.text().find("SwaggerUIBundle"), std::string::npos);
    const auto style = c.get("/docs/swagger-ui.css");
    ASSERT_EQ(style.status(), keel::status::ok);
    EXPECT_NE(style.text().find(".swagger-ui"), std::string::npos);

    const auto doc = parse_json(app.openapi_document());
    EXPECT_FALSE(doc["paths"].contains("/docs")) << "keel's own pages are not operations";
}

TEST(OpenApiTest, TheDocsPageCanLoadFromACdnMoveOrStop) {
    {
        keel::app app;
        app.openapi({.assets = keel::docs_assets::cdn, .cdn_url = "https://cdn.example/swagger-ui/"});
        app.get("/x", [] { return 1; });
        client c{app};
        const auto page = c.get("/docs").text();
        EXPECT_NE(page.find("<script src=\"https://cdn.example/swagger-ui/swagger-ui-bundle.js\">"),
                  std::string::npos)
            << page;
        EXPECT_NE(page.find("href=\"https://cdn.example/swagger-ui/swagger-ui.css\""), std::string::npos)
            << page;
        EXPECT_EQ(c.get("/docs/swagger-ui-bundle.js").status(), keel::status::not_found);
        EXPECT_EQ(c.get("/docs/swagger-initializer.js").status(), keel::status::ok) << "always keel's own";
    }
    {
        keel::app app;
        app.openapi({.path = "/reference/openapi.json", .docs_path = "/reference/v1/docs"});
        app.get("/x", [] { return 1; });
        client c{app};
        EXPECT_EQ(c.get("/docs").status(), keel::status::not_found);
        EXPECT_NE(c.get("/reference/v1/docs").text().find("src=\"docs/swagger-ui-bundle.js\""),
                  std::string::npos);
        EXPECT_NE(c.get("/reference/v1/docs/swagger-initializer.js").text().find("url: \"../openapi.json\""),
                  std::string::npos)
            << "relative: the page works behind a proxy that adds a prefix";
        EXPECT_EQ(c.get("/reference/v1/docs/swagger-ui.css").status(), keel::status::ok);
    }
    {
        keel::app app;
        app.openapi({.docs_path = ""});
        app.get("/x", [] { return 1; });
        client c{app};
        EXPECT_EQ(c.get("/docs").status(), keel::status::not_found);
        EXPECT_EQ(c.get("/openapi.json").status(), keel::status::ok);
    }
    {
        keel::app app;
        app.openapi({.path = ""});
        app.get("/x", [] { return 1; });
        client c{app};
        EXPECT_EQ(c.get("/docs").status(), keel::status::not_found) << "no document: no page to show it";
    }
    {
        keel::app app;
        app.get("/docs", [] { return 1; });
        EXPECT_THROW(app.build(), std::logic_error) << "a route of the app's own at the page's path";
    }
}
