#include "../database.hpp"
#include "../models.hpp"
#include "../routes.hpp"

#include <keel/http_error.hpp>
#include <keel/path.hpp>

namespace bank {

namespace {

keel::task<account> get_account(keel::path<std::int64_t, "id"> id, read_only_session db) {
    auto found = co_await db->first<account>("SELECT id, owner_id, balance FROM accounts WHERE id = $1", *id);
    if (!found) throw keel::http_error(keel::status::not_found, "account not found");
    co_return *found;
}

}  // namespace

keel::router accounts_router() {
    keel::router accounts{"/accounts", {"accounts"}};
    accounts.get("/{id}", get_account)
        .operation_id("get_account")
        .summary("Read an account and its balance")
        .response(keel::status::not_found, "No such account");
    return accounts;
}

}  // namespace bank
