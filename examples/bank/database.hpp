#pragma once

// The bank's database: the request's session, and the schema and seed data.

#include <keel/async_session.hpp>
#include <keel/depends.hpp>
#include <keel/get_async_session.hpp>
#include <keel/session.hpp>

namespace bank {

/// The request's session: opened from the app's session_factory, committed when the handler
/// succeeds, rolled back when it throws — before the response is written. The handlers are
/// coroutines and await their statements, so no thread waits on PostgreSQL. Tests override
/// keel::get_async_session to run it inside their own rolled-back transaction.
using db_session = keel::depends<keel::get_async_session>;

/// The same for handlers that read one row: each statement a `READ ONLY` transaction of its
/// own, begun and committed in the statement's round trip (one round trip per read, not two),
/// on a read replica when the engine has one (DATABASE_REPLICA_URLS), else on the primary. A
/// client that wrote and sends back the Keel-Read-After token it got reads its own writes
/// (docs/deployment.md).
using read_only_session = keel::depends<keel::get_autocommit_read_async_session>;

/// Creates the tables that are missing (idempotent; safe with several instances starting at once).
void apply_schema(keel::session& db);

/// Replaces all data with the reference contract's: users 1..10000, accounts 1..1000 owned by
/// users 1..1000 with a balance of 1000 each.
void seed(keel::session& db);

}  // namespace bank
