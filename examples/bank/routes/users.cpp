#include "../database.hpp"
#include "../models.hpp"
#include "../routes.hpp"

#include <keel/body.hpp>
#include <keel/database_error.hpp>
#include <keel/http_error.hpp>
#include <keel/path.hpp>

namespace bank {

namespace {

keel::task<user> get_user(keel::path<std::int64_t, "id"> id, read_only_session db) {
    auto found = co_await db->first<user>("SELECT id, email, name FROM users WHERE id = $1", *id);
    if (!found) throw keel::http_error(keel::status::not_found, "user not found");
    co_return *found;
}

keel::task<user> create_user(keel::body<new_user> in, db_session db) {
    try {
        co_return co_await db->one<user>(
            "INSERT INTO users (email, name) VALUES ($1, $2) RETURNING id, email, name", in->email, in->name);
    } catch (const keel::unique_violation&) {
        throw keel::http_error(keel::status::conflict, "email already registered");
    }
}

}  // namespace

keel::router users_router() {
    keel::router users{"/users", {"users"}};
    users.get("/{id}", get_user)
        .operation_id("get_user")
        .summary("Read a user")
        .response(keel::status::not_found, "No such user");
    users.post("", create_user)
        .status(keel::status::created)
        .operation_id("create_user")
        .summary("Register a user")
        .response(keel::status::conflict, "The e-mail address is registered already");
    return users;
}

}  // namespace bank
