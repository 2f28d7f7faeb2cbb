#pragma once

// One router per resource; bank::configure (app.hpp) includes them all.

#include <keel/router.hpp>

namespace bank {

keel::router users_router();      // GET /users/{id}, POST /users
keel::router accounts_router();   // GET /accounts/{id}
keel::router transfers_router();  // POST /transfers, GET /transfers/{id}
keel::router transport_router();  // GET /plaintext, /json
keel::router admin_router();      // GET /admin/ledger, for bearer JWTs with the admin scope

}  // namespace bank
