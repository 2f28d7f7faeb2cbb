#pragma once

#include <keel/engine.hpp>
#include <keel/session.hpp>

#include <memory>

namespace keel::testing {

/// One test's private view of the database: nothing it writes is seen by the next test.
///
/// Holds one connection of `e` with an outer transaction open. Every session made by
/// `sessions()` joins that transaction in a SAVEPOINT of its own: its `commit()` releases the
/// savepoint (later sessions of the same test see the work), its `rollback()` rolls back to
/// it, exactly as in production from the code's point of view. Destroying the isolated_database
/// rolls the outer transaction back: the database is as the test found it.
/// ```
/// keel::testing::isolated_database db(engine);
/// auto restore = client.override(keel::get_session, [&] { return keel::get_session(db.sessions()); });
/// ```
/// Limits, inherent to one connection: sessions take turns (a second session waits while one
/// is in its transaction, and one opened on the same thread meanwhile is an error), the
/// isolation level and read-only options do not apply (a savepoint cannot change them), and
/// nothing is visible to other connections. A test that needs real commits or concurrent
/// connections uses a fresh database instead (keel/testing/database_template.hpp).
class isolated_database {
public:
    /// Checks a connection out of `e` and begins the outer transaction.
    explicit isolated_database(keel::engine& e, session_options defaults = {});
    /// Rolls back everything the test wrote and returns the connection. Never throws.
    ~isolated_database();
    isolated_database(const isolated_database&) = delete;
    isolated_database& operator=(const isolated_database&) = delete;

    /// The factory whose sessions join this test's transaction.
    keel::session_factory& sessions() noexcept { return sessions_; }
    /// A session of that factory: for a test to arrange data or check what the code did.
    keel::session open() const { return sessions_.open(); }

private:
    std::shared_ptr<keel::detail::outer_transaction> outer_;
    keel::session_factory sessions_;
};

}  // namespace keel::testing
