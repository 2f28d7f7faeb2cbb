#pragma once

#include <keel/async_session.hpp>
#include <keel/async_yield.hpp>
#include <keel/session.hpp>

namespace keel {

/// The request's awaited session, ready-made for coroutine handlers: opened from the app's
/// session_factory, its COMMIT awaited when the handler succeeds and its ROLLBACK when anything
/// fails — before the response is written. No thread waits on PostgreSQL meanwhile.
/// ```
/// using db_session = keel::depends<keel::get_async_session>;
/// keel::task<user> get_user(keel::path<std::int64_t> id, db_session db) {
///     auto found = co_await db->first<user>("SELECT id, email, name FROM users WHERE id = $1", *id);
///     if (!found) throw keel::http_error(keel::status::not_found, "user not found");
///     co_return *found;
/// }
/// ```
async_yield<async_session> get_async_session(session_factory& sessions);

/// The same, read-only (`BEGIN ... READ ONLY`): on one of the engine's read replicas when it has
/// a usable one, past the request's read-your-writes token (docs/deployment.md), else on the
/// primary. A write in it fails (SQLSTATE 25006).
async_yield<async_session> get_read_only_async_session(session_factory& sessions);

/// Read-only too, with each statement a READ ONLY transaction of its own
/// (session_options::autocommit), begun and committed in the statement's one round trip: a
/// handler that reads once costs one round trip instead of two. For handlers whose reads need
/// no one snapshot across statements (at READ COMMITTED each statement sees a snapshot of its
/// own anyway). Routed to replicas as get_read_only_async_session is.
async_yield<async_session> get_autocommit_read_async_session(session_factory& sessions);

}  // namespace keel
