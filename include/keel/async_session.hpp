#pragma once

#include <keel/call_site.hpp>
#include <keel/deferred_result.hpp>
#include <keel/engine.hpp>
#include <keel/row.hpp>
#include <keel/session.hpp>
#include <keel/task.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace keel {

/// A session whose statements are awaited: one unit of work on a pooled connection, run by
/// libpq without blocking on the calling thread's event loop. What a coroutine handler asks
/// for (keel::get_async_session); background work runs one under keel::sync_wait.
///
/// It behaves as keel::session does — lazy checkout (a request that never queries costs no
/// connection), BEGIN sent in the same round trip as the first statement, each distinct
/// statement prepared once per connection (in that same round trip), typed results, typed
/// SQLSTATE errors, NUL bytes refused — except that no thread waits on PostgreSQL: while a
/// statement is out, the thread serves other requests. A waiting checkout holds no thread
/// either; opening a new connection runs on the worker pool (libpq's connect blocks).
///
/// Await each call where it is made (`co_await db.exec(...)`): the statement's text is read
/// when the task runs. Not thread safe: one session, one coroutine at a time.
///
/// `co_await commit()` or `co_await rollback()` end the transaction and return the connection.
/// A session destroyed with its transaction open cannot await a ROLLBACK: it closes the
/// connection instead, which rolls the transaction back on the server (and costs the pool that
/// connection). A moved-from session is empty.
class async_session {
public:
    async_session(engine& e, session_options options = {}, call_site where = call_site::here());
    /// A session that joins `outer`'s transaction in a SAVEPOINT (the isolated test database).
    async_session(std::shared_ptr<detail::outer_transaction> outer, session_options options = {},
                  call_site where = call_site::here());
    async_session(async_session&&) noexcept;
    async_session& operator=(async_session&&) = delete;
    ~async_session();

    /// Runs a statement; throws a keel::database_error subclass for what PostgreSQL refused.
    template <class... Args>
    task<keel::result> exec(std::string_view sql, const Args&... args) {
        return run(sql, {detail::to_param(args)...});
    }
    /// Queues a statement to go out with the session's next round trip: the next statement
    /// (before it, in the same pipeline) or the COMMIT. It saves that statement's round trip. Its
    /// result is read from the keel::deferred_result returned, once that call returned (ignore
    /// it when the statement's result is not needed): `co_await commit()` then read it, and a
    /// statement's result and the COMMIT cost one round trip. What PostgreSQL refuses is thrown
    /// by the call that sent it (the next statement, or commit(): then nothing is committed); a
    /// NUL byte is refused here. A unit of work rolled back takes the statements deferred within
    /// it along, sent or not. Deferring begins no transaction and checks out no connection by
    /// itself.
    template <class... Args>
    deferred_result exec_deferred(std::string_view sql, const Args&... args) {
        return defer(sql, {detail::to_param(args)...});
    }
    /// Every row mapped to T (a KEEL_MODEL by column name, or a one-column scalar).
    template <class T, class... Args>
    task<std::vector<T>> all(std::string_view sql, const Args&... args) {
        return all_of<T>(run(sql, {detail::to_param(args)...}));
    }
    /// Exactly one row, mapped; std::logic_error otherwise.
    template <class T, class... Args>
    task<T> one(std::string_view sql, const Args&... args) {
        return one_of<T>(run(sql, {detail::to_param(args)...}));
    }
    /// The first row mapped, if any.
    template <class T, class... Args>
    task<std::optional<T>> first(std::string_view sql, const Args&... args) {
        return first_of<T>(run(sql, {detail::to_param(args)...}));
    }
    /// The first column of exactly one row.
    template <class T, class... Args>
    task<T> scalar(std::string_view sql, const Args&... args) {
        return scalar_of<T>(run(sql, {detail::to_param(args)...}));
    }

    /// Commits the open transaction (if any) and returns the connection. A failure is thrown
    /// (after the rollback); a connection lost during COMMIT is keel::commit_in_doubt.
    task<void> commit();
    /// Rolls back the open transaction (if any) and returns the connection; never throws (a
    /// connection that fails to roll back is closed).
    task<void> rollback();

    /// A nested unit of work: the transaction when none is open, else a SAVEPOINT. Neither
    /// costs a round trip of its own: the SAVEPOINT (and a RELEASE or ROLLBACK TO it) goes out
    /// with the next statement. `co_await commit()` it when the block succeeded; destroyed
    /// without that, it rolls back — to its savepoint, leaving the outer transaction usable,
    /// or, for the whole transaction, before the session's next statement or at its end.
    class unit {
    public:
        unit(unit&&) noexcept;
        unit& operator=(unit&&) = delete;
        ~unit();
        task<void> commit();
        task<void> rollback();

    private:
        friend class async_session;
        unit(async_session& s, std::string savepoint) noexcept;
        void roll_back_later() noexcept;
        async_session* session_;
        std::string savepoint_;  // empty: this unit is the transaction itself
    };
    task<unit> begin();

    /// Runs `work` (a callable returning a keel::task) in a nested unit: committed if it
    /// returns, rolled back if it throws.
    template <class F>
    auto transaction(F work) -> std::invoke_result_t<F&> {
        auto u = co_await begin();
        if constexpr (std::is_void_v<typename std::invoke_result_t<F&>::value_type>) {
            co_await work();
            co_await u.commit();
        } else {
            auto value = co_await work();
            co_await u.commit();
            co_return value;
        }
    }

    bool in_transaction() const noexcept;

private:
    task<keel::result> run(std::string_view sql, std::vector<std::optional<std::string>> params);
    deferred_result defer(std::string_view sql, std::vector<std::optional<std::string>> params);

    template <class T>
    static task<std::vector<T>> all_of(task<keel::result> pending) {
        co_return detail::all_rows<T>(co_await std::move(pending));
    }
    template <class T>
    static task<T> one_of(task<keel::result> pending) {
        co_return detail::one_row<T>(co_await std::move(pending));
    }
    template <class T>
    static task<std::optional<T>> first_of(task<keel::result> pending) {
        co_return detail::first_row<T>(co_await std::move(pending));
    }
    template <class T>
    static task<T> scalar_of(task<keel::result> pending) {
        co_return detail::scalar_of_one_row<T>(co_await std::move(pending));
    }

    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace keel
