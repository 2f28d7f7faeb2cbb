#include "../database.hpp"
#include "../models.hpp"
#include "../routes.hpp"

#include <keel/body.hpp>
#include <keel/http_error.hpp>
#include <keel/path.hpp>

#include <vector>

namespace bank {

namespace {

keel::task<transfer_created> create_transfer(keel::body<transfer_request> in, db_session db) {
    const auto& t = *in;  // amount > 0: the model's constraint, checked with the body
    // Lock both accounts in id order, so two opposite transfers cannot deadlock, then check.
    const auto locked = co_await db->all<account>(
        "SELECT id, owner_id, balance FROM accounts WHERE id IN ($1, $2) ORDER BY id FOR UPDATE", t.from_id,
        t.to_id);
    const account* from = nullptr;
    bool to_exists = false;
    for (const auto& a : locked) {
        if (a.id == t.from_id) from = &a;
        if (a.id == t.to_id) to_exists = true;
    }
    if (!from || !to_exists) throw keel::http_error(keel::status::not_found, "account not found");
    if (from->balance < t.amount) throw keel::http_error(keel::status::conflict, "insufficient funds");

    // Nothing else needs an answer before the COMMIT: the UPDATE and the INSERT are deferred and
    // go out with it, so the transfer takes two round trips (BEGIN with the SELECT, then these).
    // A failure of either is thrown by commit(), with nothing committed; the INSERT's id is read
    // once the commit returned. (The provider's teardown then finds nothing left to commit.)
    if (t.from_id != t.to_id) {  // to oneself the balance stays as it is
        db->exec_deferred(
            "UPDATE accounts SET balance = balance + CASE WHEN id = $1 THEN -$3::bigint ELSE $3::bigint END "
            "WHERE id IN ($1, $2)",
            t.from_id, t.to_id, t.amount);
    }
    const auto inserted =
        db->exec_deferred("INSERT INTO transfers (from_id, to_id, amount) VALUES ($1, $2, $3) RETURNING id",
                          t.from_id, t.to_id, t.amount);
    co_await db->commit();
    co_return inserted.one<transfer_created>();
}

keel::task<transfer> get_transfer(keel::path<std::int64_t> id, read_only_session db) {
    auto found = co_await db->first<transfer>(
        "SELECT id, from_id, to_id, amount, created_at FROM transfers WHERE id = $1", *id);
    if (!found) throw keel::http_error(keel::status::not_found, "transfer not found");
    co_return *found;
}

}  // namespace

keel::router transfers_router() {
    keel::router transfers{"/transfers", {"transfers"}};
    // A serialization failure or deadlock re-runs the whole handler with a fresh session (the
    // row locks above make them unlikely at READ COMMITTED; a stricter isolation would not).
    transfers.post("", create_transfer)
        .status(keel::status::created)
        .retry_on_conflict(3)
        .operation_id("create_transfer")
        .summary("Move money from one account to another")
        .response(keel::status::not_found, "An account does not exist")
        .response(keel::status::conflict, "Insufficient funds");
    transfers.get("/{id}", get_transfer)
        .operation_id("get_transfer")
        .summary("Read a transfer")
        .response(keel::status::not_found, "No such transfer");
    return transfers;
}

}  // namespace bank
