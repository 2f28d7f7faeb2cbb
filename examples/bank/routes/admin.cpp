#include "../database.hpp"
#include "../models.hpp"
#include "../routes.hpp"

#include <keel/bearer_jwt.hpp>

namespace bank {

namespace {

// One statement: the total and the count come from the same snapshot, whatever transfers run.
// The sum is numeric in PostgreSQL; a total beyond bigint is an error, never a wrapped number.
keel::task<ledger> read_ledger(db_session db) {
    co_return co_await db->one<ledger>(
        "SELECT coalesce(sum(balance), 0)::bigint AS total, count(*) AS accounts FROM accounts");
}

}  // namespace

keel::router admin_router() {
    keel::router admin{"/admin", {"admin"}};
    admin.depend_on<keel::require_scopes<"admin">>();  // every route here: a bearer JWT with scope admin
    admin.get("/ledger", read_ledger)
        .operation_id("read_ledger")
        .summary("Every balance added up, and how many accounts hold them")
        .response(keel::status::service_unavailable, "No key to verify tokens with (JWT_KEY_FILE unset)");
    return admin;
}

}  // namespace bank
