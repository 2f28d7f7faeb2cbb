#pragma once

// The app every fuzz target drives: a realistic route table with typed path, query, header and
// JSON-body parameters, dependencies, and nested models. Its handlers never throw, so a 500 is
// always keel's own failure: the targets treat it as a crash.

#include <keel/keel.hpp>
#include <keel/testing/client.hpp>

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

namespace keel_fuzz {

struct address {
    std::string street;
    std::optional<std::string> city;
    KEEL_MODEL(address, street, city)
};

struct line_item {
    std::int64_t sku;
    double price;
    int quantity;
    bool gift;
    KEEL_MODEL(line_item, sku, price, quantity, gift)
};

struct order {
    std::string customer;
    std::vector<line_item> items;
    std::optional<address> ship_to;
    std::vector<std::string> tags;
    KEEL_MODEL(order, customer, items, ship_to, tags)
};

struct caller {
    std::string name;
};
inline caller current_caller(keel::header<std::optional<std::string>, "x-caller"> who) {
    return caller{who->value_or("anonymous")};
}

inline keel::app& app() {
    static keel::app instance;
    static const bool configured = [] {
        auto& a = instance;
        for (int i = 0; i < 8; ++i) a.get("/static/" + std::to_string(i), [] { return 0; });
        a.get("/plaintext",
              []() -> keel::task<keel::response> { co_return keel::response::text("Hello, World!"); });
        a.get("/users/{id}", [](keel::path<std::int64_t, "id"> id, keel::query<int, "limit", 10> limit) {
            return nlohmann::json{{"id", *id}, {"limit", *limit}};
        });
        a.get("/users/{id}/orders/{order}", [](keel::path<std::int64_t, "id"> id,
                                               keel::path<std::string, "order"> o,
                                               keel::query<std::vector<std::string>, "tag"> tags,
                                               keel::query<std::optional<double>, "min"> min) {
            return nlohmann::json{{"id", *id}, {"order", *o}, {"tags", *tags}, {"min", min->value_or(0.0)}};
        });
        a.get("/me",
              [](keel::depends<current_caller> me, keel::header<std::optional<std::int64_t>, "x-count"> n) {
                  return nlohmann::json{{"name", me->name}, {"count", n->value_or(0)}};
              });
        a.post("/orders", [](keel::body<order> o) { return *o; }).status(keel::status::created);
        a.put("/orders/{id}", [](keel::path<std::int64_t, "id"> id, keel::body<order> o) {
            return nlohmann::json{{"id", *id}, {"items", o->items.size()}};
        });
        a.delete_("/orders/{id}", [](keel::path<std::int64_t, "id">) {});
        a.logger().set_level(keel::log_level::off);
        return true;
    }();
    (void)configured;
    return instance;
}

inline keel::testing::client& client() {
    static keel::testing::client c(app());
    return c;
}

/// The fuzz oracle: keel answered something sane, and never failed on its own.
inline void check(const keel::response& res) {
    const auto code = keel::to_int(res.status());
    if (code < 100 || code > 599 || code == 500) std::abort();
}

}  // namespace keel_fuzz
