#pragma once

#include <keel/row.hpp>

#include <memory>
#include <optional>
#include <vector>

namespace keel {

/// The result of a statement a session deferred (`exec_deferred`). The statement goes out with
/// the session's next round trip — its next statement, or its commit() — and its result is here
/// once that call returned normally. Until then, and for good when that call failed or a
/// rollback dropped the statement before it was sent, there is none: reading it throws
/// std::logic_error. A statement that ran and was rolled back afterwards keeps its result, as
/// any statement's keel::result does.
///
/// It gives a handler a statement's result and the COMMIT in one round trip:
///
///     auto created = db->exec_deferred("INSERT INTO ... RETURNING id", ...);
///     co_await db->commit();                   // the INSERT, then COMMIT: one round trip
///     co_return created.one<transfer_created>();
///
/// A copy refers to the same result. Not thread safe: read it where the session runs.
class deferred_result {
public:
    explicit deferred_result(std::shared_ptr<detail::result_data> slot) noexcept : slot_(std::move(slot)) {}

    /// Whether the statement ran and its result came back.
    bool ready() const noexcept;
    /// The statement's result; std::logic_error when it is not ready().
    keel::result get() const;

    /// Every row mapped to T (a KEEL_MODEL by column name, or a one-column scalar).
    template <class T>
    std::vector<T> all() const {
        return detail::all_rows<T>(get());
    }
    /// Exactly one row, mapped; std::logic_error otherwise.
    template <class T>
    T one() const {
        return detail::one_row<T>(get());
    }
    /// The first row mapped, if any.
    template <class T>
    std::optional<T> first() const {
        return detail::first_row<T>(get());
    }
    /// The first column of exactly one row.
    template <class T>
    T scalar() const {
        return detail::scalar_of_one_row<T>(get());
    }

private:
    std::shared_ptr<detail::result_data> slot_;
};

}  // namespace keel
