#pragma once

#include <keel/session.hpp>
#include <keel/yield.hpp>

namespace keel {

/// The request's session, ready-made: opened from the app's session_factory, committed when
/// the handler succeeds, rolled back when anything fails — before the response is written.
/// ```
/// app.provide<keel::session_factory>(keel::scope::app, [](keel::engine& e) { return
/// keel::session_factory{e}; }); using session_dep = keel::depends<keel::get_session>; app.get("/users/{id}",
/// [](keel::path<std::int64_t> id, session_dep db) { ... });
/// ```
yield<session> get_session(session_factory& sessions);

/// The same, read-only (`BEGIN ... READ ONLY`): on one of the engine's read replicas when it has
/// a usable one, past the request's read-your-writes token (docs/deployment.md), else on the
/// primary. A write in it fails (SQLSTATE 25006).
yield<session> get_read_only_session(session_factory& sessions);

/// Read-only too, with each statement a READ ONLY transaction of its own
/// (session_options::autocommit), begun and committed in the statement's one round trip: for
/// handlers whose reads need no one snapshot across statements. Routed to replicas as
/// get_read_only_session is.
yield<session> get_autocommit_read_session(session_factory& sessions);

}  // namespace keel
