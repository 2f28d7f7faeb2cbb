#include "database.hpp"

namespace bank {

namespace {

// The reference contract's schema (../shared/bench/schema.sql), without its DROPs.
constexpr const char* schema_sql[] = {
    R"(CREATE TABLE IF NOT EXISTS users (
        id         bigserial   PRIMARY KEY,
        email      text        NOT NULL UNIQUE,
        name       text        NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()))",
    R"(CREATE TABLE IF NOT EXISTS accounts (
        id       bigserial PRIMARY KEY,
        owner_id bigint    NOT NULL REFERENCES users(id),
        balance  bigint    NOT NULL CHECK (balance >= 0)))",
    R"(CREATE TABLE IF NOT EXISTS transfers (
        id         bigserial   PRIMARY KEY,
        from_id    bigint      NOT NULL REFERENCES accounts(id),
        to_id      bigint      NOT NULL REFERENCES accounts(id),
        amount     bigint      NOT NULL CHECK (amount > 0),
        created_at timestamptz NOT NULL DEFAULT now()))",
};

constexpr const char* seed_sql[] = {
    "TRUNCATE transfers, accounts, users RESTART IDENTITY",
    R"(INSERT INTO users (id, email, name)
       SELECT n, 'user' || n || '@example.com', 'User ' || n FROM generate_series(1, 10000) AS n)",
    "INSERT INTO accounts (id, owner_id, balance) SELECT n, n, 1000 FROM generate_series(1, 1000) AS n",
    // Explicit ids were inserted: move the sequences past them.
    "SELECT setval(pg_get_serial_sequence('users', 'id'), 10000)",
    "SELECT setval(pg_get_serial_sequence('accounts', 'id'), 1000)",
    "ANALYZE users",
    "ANALYZE accounts",
    "ANALYZE transfers",
};

}  // namespace

void apply_schema(keel::session& db) {
    // CREATE TABLE IF NOT EXISTS can still collide when two instances start together: one at a time.
    db.exec("SELECT pg_advisory_xact_lock(7201)");
    for (const char* statement : schema_sql) db.exec(statement);
}

void seed(keel::session& db) {
    for (const char* statement : seed_sql) db.exec(statement);
}

}  // namespace bank
