#pragma once

// What the bank's API speaks and its tables hold. KEEL_MODEL gives each struct strict JSON in
// both directions and its mapping from a database row by column name; a field in parentheses
// carries constraints, checked with the rest of the body (a 422 names every failure) and shown
// in the OpenAPI document.

#include <keel/chrono.hpp>
#include <keel/model.hpp>

#include <chrono>
#include <cstdint>
#include <string>

namespace bank {

struct user {
    std::int64_t id;
    std::string email;
    std::string name;
    KEEL_MODEL(user, id, email, name)
};

struct new_user {
    std::string email;
    std::string name;
    // 254: the longest address SMTP carries (RFC 5321).
    KEEL_MODEL(new_user, (email, min_length(3), max_length(254), example("ada@example.com")),
               (name, min_length(1), max_length(200), example("Ada Lovelace")))
};

struct account {
    std::int64_t id;
    std::int64_t owner_id;
    std::int64_t balance;
    KEEL_MODEL(account, id, owner_id, balance)
};

struct transfer_request {
    std::int64_t from_id;
    std::int64_t to_id;
    std::int64_t amount;
    KEEL_MODEL(transfer_request, from_id, to_id,
               (amount, gt(0), description("In the smallest unit of the currency")))
};

struct transfer_created {
    std::int64_t id;
    KEEL_MODEL(transfer_created, id)
};

// A recorded transfer, as GET /transfers/{id} answers it: created_at is the row's timestamptz,
// written as RFC 3339 in UTC ("2026-12-02T08:30:00.250000Z").
struct transfer {
    std::int64_t id;
    std::int64_t from_id;
    std::int64_t to_id;
    std::int64_t amount;
    std::chrono::sys_time<std::chrono::microseconds> created_at;
    KEEL_MODEL(transfer, id, from_id, to_id, amount, created_at)
};

// GET /admin/ledger: every balance added up, and how many accounts hold them.
struct ledger {
    std::int64_t total;
    std::int64_t accounts;
    KEEL_MODEL(ledger, total, accounts)
};

struct hello {
    std::string message;
    KEEL_MODEL(hello, message)
};

}  // namespace bank
