// The bank with plain handlers on the blocking session (keel::get_session, run on the worker
// pool): what examples/bank was before its handlers became coroutines, kept so that bench/run
// measures the two kinds of session side by side on the same library. Same services, routes
// and SQL as examples/bank; only the handlers' kind differs.
#include "app.hpp"
#include "models.hpp"
#include "settings.hpp"

#include <keel/body.hpp>
#include <keel/database_error.hpp>
#include <keel/get_session.hpp>
#include <keel/http_error.hpp>
#include <keel/path.hpp>

#include <iostream>
#include <stdexcept>
#include <vector>

namespace {

using db_session = keel::depends<keel::get_session>;
using read_only_session = keel::depends<keel::get_autocommit_read_session>;  // as the bank's reads

bank::user get_user(keel::path<std::int64_t, "id"> id, read_only_session db) {
    auto found = db->first<bank::user>("SELECT id, email, name FROM users WHERE id = $1", *id);
    if (!found) throw keel::http_error(keel::status::not_found, "user not found");
    return *found;
}

bank::user create_user(keel::body<bank::new_user> in, db_session db) {
    try {
        return db->one<bank::user>(
            "INSERT INTO users (email, name) VALUES ($1, $2) RETURNING id, email, name", in->email, in->name);
    } catch (const keel::unique_violation&) {
        throw keel::http_error(keel::status::conflict, "email already registered");
    }
}

bank::account get_account(keel::path<std::int64_t, "id"> id, read_only_session db) {
    auto found = db->first<bank::account>("SELECT id, owner_id, balance FROM accounts WHERE id = $1", *id);
    if (!found) throw keel::http_error(keel::status::not_found, "account not found");
    return *found;
}

bank::transfer_created create_transfer(keel::body<bank::transfer_request> in, db_session db) {
    const auto& t = *in;
    const auto locked = db->all<bank::account>(
        "SELECT id, owner_id, balance FROM accounts WHERE id IN ($1, $2) ORDER BY id FOR UPDATE", t.from_id,
        t.to_id);
    const bank::account* from = nullptr;
    bool to_exists = false;
    for (const auto& a : locked) {
        if (a.id == t.from_id) from = &a;
        if (a.id == t.to_id) to_exists = true;
    }
    if (!from || !to_exists) throw keel::http_error(keel::status::not_found, "account not found");
    if (from->balance < t.amount) throw keel::http_error(keel::status::conflict, "insufficient funds");
    // Deferred, the UPDATE and the INSERT go out with the COMMIT, as in the awaited bank.
    if (t.from_id != t.to_id) {
        db->exec_deferred(
            "UPDATE accounts SET balance = balance + CASE WHEN id = $1 THEN -$3::bigint ELSE $3::bigint END "
            "WHERE id IN ($1, $2)",
            t.from_id, t.to_id, t.amount);
    }
    const auto inserted =
        db->exec_deferred("INSERT INTO transfers (from_id, to_id, amount) VALUES ($1, $2, $3) RETURNING id",
                          t.from_id, t.to_id, t.amount);
    db->commit();
    return inserted.one<bank::transfer_created>();
}

bank::transfer get_transfer(keel::path<std::int64_t> id, read_only_session db) {
    auto found = db->first<bank::transfer>(
        "SELECT id, from_id, to_id, amount, created_at FROM transfers WHERE id = $1", *id);
    if (!found) throw keel::http_error(keel::status::not_found, "transfer not found");
    return *found;
}

}  // namespace

int main(int argc, char** argv) {
    bank::settings config;
    try {
        config = bank::settings::from_command_line(argc, argv);
    } catch (const std::invalid_argument& e) {
        std::cerr << "keel_bench_plain_bank: " << e.what() << '\n';
        return 2;
    }
    keel::app app;
    bank::configure_services(app, config);
    app.get("/users/{id}", get_user);
    app.post("/users", create_user).status(keel::status::created);
    app.get("/accounts/{id}", get_account);
    app.post("/transfers", create_transfer).status(keel::status::created).retry_on_conflict(3);
    app.get("/transfers/{id}", get_transfer);
    return app.run(config.server);
}
