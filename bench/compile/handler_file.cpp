// What a service's handler file looks like to the compiler: five routes, a body model and a
// dependency. bench/compile-time times it (issue #11 asks for under 5 s, Release).
#include <keel/keel.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace shop {

struct new_item {
    std::string name;
    std::int64_t price;
    std::optional<std::string> note;
    KEEL_MODEL(new_item, name, price, note)
};

struct item {
    std::int64_t id;
    std::string name;
    std::int64_t price;
    KEEL_MODEL(item, id, name, price)
};

using session_dep = keel::depends<keel::get_session>;

void add_routes(keel::router& r) {
    r.get("/items/{id}", [](keel::path<std::int64_t> id, session_dep db) {
        auto found = db->first<item>("SELECT id, name, price FROM items WHERE id = $1", *id);
        if (!found) throw keel::http_error(keel::status::not_found, "no such item");
        return *found;
    });
    r.get("/items", [](keel::query<int, "limit", 20> limit, keel::query<std::optional<bool>, "cheap"> cheap,
                       session_dep db) {
        return db->all<item>(
            "SELECT id, name, price FROM items WHERE ($2::bool IS NOT TRUE OR price < 100) LIMIT $1", *limit,
            *cheap);
    });
    r.post("/items", [](keel::body<new_item> in, session_dep db) {
         return db->one<item>("INSERT INTO items (name, price) VALUES ($1, $2) RETURNING id, name, price",
                              in->name, in->price);
     }).status(keel::status::created);
    r.delete_("/items/{id}", [](keel::path<std::int64_t> id, session_dep db) {
        db->exec("DELETE FROM items WHERE id = $1", *id);
    });
    r.get("/items/{id}/owner", [](keel::path<std::int64_t> id,
                                  keel::header<std::optional<std::string>, "x-user"> user, session_dep db) {
        return db->scalar<std::string>("SELECT $1::text || ':' || $2::bigint::text", user->value_or("anon"),
                                       *id);
    });
}

}  // namespace shop
