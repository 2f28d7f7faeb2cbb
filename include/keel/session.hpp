#pragma once

#include <keel/call_site.hpp>
#include <keel/deferred_result.hpp>
#include <keel/detail/value_shape.hpp>
#include <keel/engine.hpp>
#include <keel/row.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace keel {

class async_session;

enum class isolation { read_committed, repeatable_read, serializable };

/// Per-session settings, applied when its transaction begins.
struct session_options {
    keel::isolation isolation = keel::isolation::read_committed;
    bool read_only = false;
    std::chrono::milliseconds statement_timeout{0};  ///< 0: the server's default
    std::chrono::milliseconds pool_timeout{0};       ///< longest wait for a connection; 0: the engine's
    /// Each statement a transaction of its own, committed before its call returns; the session
    /// holds a connection only while a statement runs. BEGIN, the statement and COMMIT go in one
    /// round trip. No units of work (begin() throws); commit() sends what is still deferred,
    /// rollback() only drops it.
    bool autocommit = false;
};

namespace detail {
struct outer_transaction;  // one connection's transaction that sessions join; src/outer_transaction.hpp

// A statement parameter as PostgreSQL reads it: codec<T>::format's text, or NULL.
template <class T>
std::optional<std::string> to_param(const T& value) {
    if constexpr (std::is_same_v<T, std::nullptr_t>) {
        return std::nullopt;
    } else if constexpr (is_std_optional<T>::value) {
        return value ? to_param(*value) : std::nullopt;
    } else if constexpr (character<T>) {
        static_assert(sizeof(T) == 0,
                      "keel: a statement parameter of type char is ambiguous (a letter or a number?): pass a "
                      "std::string or a sized integer");
        return std::nullopt;
    } else if constexpr (mapped<T>) {
        std::string text;
        codec<T>::format(text, value);
        return text;
    } else if constexpr (keel_model<T>) {  // a KEEL_MODEL struct, for a jsonb or json parameter
        std::string text;
        append_json(text, value);
        return text;
    } else if constexpr (value_shape<T>::list) {  // a one-dimensional array
        static_assert(
            !value_shape<typename value_shape<typename T::value_type>::element>::list,
            "keel: array parameters are one-dimensional: a std::vector of std::vector is not mapped");
        std::string text = "{";
        for (std::size_t i = 0; i < value.size(); ++i) {
            if (i) text += ',';
            append_array_element(text, to_param(value[i]));
        }
        text += '}';
        return text;
    } else {
        static_assert(std::is_convertible_v<const T&, std::string_view>,
                      "keel: a statement parameter is a type keel maps (a number, bool, string, keel::uuid, "
                      "time point, ...), a std::optional of one, or nullptr; or specialise keel::codec<T>");
        return std::string(std::string_view(value));
    }
}

}  // namespace detail

/// One unit of work: a transaction on a pooled connection, checked out lazily on the first
/// statement (a request that never queries costs no connection).
///
/// Statements take parameters (`$1`, `$2`...), never string splicing; each distinct statement
/// is prepared once per connection and reused. `commit()` and `rollback()` end the transaction
/// and return the connection; the next statement begins a new one. A session destroyed with an
/// open transaction rolls it back. A moved-from session is empty: destroying it, committing or
/// rolling it back does nothing (its transaction went with the move); running a statement on
/// it, or on a closed session, throws std::logic_error. Not thread safe: one session, one
/// thread at a time.
///
/// A session remembers whom it was opened for: the request keel was resolving dependencies or
/// running a plain handler for (its id, trace, method and route), and `where` in the source.
/// The engine's lines about a connection held too long, and the session's about a slow
/// statement, name them, through that app's logger.
class session {
public:
    session(engine& e, session_options options = {}, call_site where = call_site::here());
    /// A session that joins `outer`'s transaction: it begins with a SAVEPOINT instead of BEGIN,
    /// and its commit and rollback release or roll back to that savepoint (the isolated test
    /// session factory, keel/testing/isolated_database.hpp, makes these).
    session(std::shared_ptr<detail::outer_transaction> outer, session_options options = {},
            call_site where = call_site::here());
    session(session&&) noexcept;
    session& operator=(session&&) = delete;
    ~session();  // rolls back an open transaction; never throws

    /// Runs a statement; throws a keel::database_error subclass for what PostgreSQL refused. A
    /// parameter (or the statement) holding a NUL byte, which PostgreSQL text cannot store, is
    /// refused before anything is sent (SQLSTATE 22021), never cut short. Blocks: on an I/O
    /// thread it throws std::logic_error (see keel::offload).
    template <class... Args>
    keel::result exec(std::string_view sql, const Args&... args) {
        return run(sql, {detail::to_param(args)...});
    }
    /// Queues a statement to go out with the session's next round trip: before the next
    /// statement, in the same pipeline, saving a round trip of its own, or with the COMMIT (one
    /// round trip for both). Its result is read from the keel::deferred_result returned, once
    /// that call returned (ignore it when the statement's result is not needed). What
    /// PostgreSQL refuses is thrown by the call that sent it: the next statement, or commit()
    /// (then nothing is committed). A NUL byte is refused here. A unit of work rolled back takes
    /// the statements deferred within it along, sent or not. Deferring begins no transaction and
    /// checks out no connection by itself.
    template <class... Args>
    deferred_result exec_deferred(std::string_view sql, const Args&... args) {
        return defer(sql, {detail::to_param(args)...});
    }
    /// Every row mapped to T (a KEEL_MODEL by column name, or a one-column scalar).
    template <class T, class... Args>
    std::vector<T> all(std::string_view sql, const Args&... args) {
        return detail::all_rows<T>(exec(sql, args...));
    }
    /// Exactly one row, mapped; std::logic_error otherwise.
    template <class T, class... Args>
    T one(std::string_view sql, const Args&... args) {
        return detail::one_row<T>(exec(sql, args...));
    }
    /// The first row mapped, if any.
    template <class T, class... Args>
    std::optional<T> first(std::string_view sql, const Args&... args) {
        return detail::first_row<T>(exec(sql, args...));
    }
    /// The first column of exactly one row.
    template <class T, class... Args>
    T scalar(std::string_view sql, const Args&... args) {
        return detail::scalar_of_one_row<T>(exec(sql, args...));
    }

    /// Commits the open transaction (if any) and returns the connection. A failure is thrown;
    /// a connection lost during COMMIT is keel::commit_in_doubt.
    void commit();
    /// Rolls back the open transaction (if any) and returns the connection.
    void rollback() noexcept;
    /// Rolls back and makes the session unusable: later use throws std::logic_error.
    void close() noexcept;

    /// A nested unit of work: BEGIN when no transaction is open, else a SAVEPOINT.
    /// `commit()` it when the block succeeded; destroyed without that, it rolls back (to the
    /// savepoint), leaving the outer transaction usable.
    class unit {
    public:
        unit(unit&&) noexcept;
        unit& operator=(unit&&) = delete;
        ~unit();
        void commit();
        void rollback() noexcept;

    private:
        friend class session;
        unit(session& s, std::string savepoint) noexcept;
        session* session_;
        std::string savepoint_;  // empty: this unit began the transaction itself
    };
    [[nodiscard]] unit begin();
    /// Runs `work` in a nested unit: committed (released) if it returns, rolled back if it throws.
    template <class F>
    decltype(auto) transaction(F&& work) {
        auto u = begin();
        if constexpr (std::is_void_v<std::invoke_result_t<F&>>) {
            work();
            u.commit();
        } else {
            decltype(auto) value = work();
            u.commit();
            return value;
        }
    }

    bool in_transaction() const noexcept;

private:
    keel::result run(std::string_view sql, const std::vector<std::optional<std::string>>& params);
    deferred_result defer(std::string_view sql, std::vector<std::optional<std::string>> params);

    struct impl;
    std::unique_ptr<impl> impl_;
};

/// Makes sessions bound to an engine, with default options: the app-scoped service that a
/// request's `get_session` provider asks for.
class session_factory {
public:
    explicit session_factory(engine& e, session_options defaults = {}) : engine_(&e), defaults_(defaults) {}
    /// Sessions that all join one outer transaction (see keel::testing::isolated_database).
    explicit session_factory(std::shared_ptr<detail::outer_transaction> outer, session_options defaults = {})
        : outer_(std::move(outer)), defaults_(defaults) {}

    session open(call_site where = call_site::here()) const { return open(defaults_, where); }
    session open(session_options options, call_site where = call_site::here()) const {
        return outer_ ? session(outer_, options, where) : session(*engine_, options, where);
    }
    /// An awaited session with the same defaults (keel/async_session.hpp).
    async_session open_async(call_site where = call_site::here()) const;
    async_session open_async(session_options options, call_site where = call_site::here()) const;
    /// The options sessions are opened with unless told otherwise.
    const session_options& defaults() const noexcept { return defaults_; }

private:
    keel::engine* engine_ = nullptr;
    std::shared_ptr<detail::outer_transaction> outer_;
    session_options defaults_;
};

}  // namespace keel
