#pragma once

// Read-your-writes across replicas. A transaction that commits on the primary learns the WAL
// position its commit reached (in the same round trip as COMMIT); the request hands it to the
// client as a token; a later read-only session of a request that carries the token runs on a
// replica only once that replica has replayed past it. Private to keel.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace keel {
class request;
class response;
}  // namespace keel

namespace keel::detail {

/// A WAL position (PostgreSQL's pg_lsn) as a number; 0: none.
using wal_position = std::uint64_t;

/// `16/B374D848` (pg_lsn's text) as a number; nullopt when it is not one.
std::optional<wal_position> parse_wal_position(std::string_view text) noexcept;
std::string format_wal_position(wal_position at);

/// The response header and cookie that carry the token, and the request header that brings it
/// back (the cookie also brings it back).
inline constexpr std::string_view read_after_header = "Keel-Read-After";
inline constexpr std::string_view read_after_cookie = "keel_read_after";

/// One request's positions, shared by its sessions (which a handler may run on several threads).
struct read_position {
    std::atomic<wal_position> read_after{0};      // the client's token, raised by this request's commits
    std::atomic<wal_position> committed{0};       // the last commit of this request on the primary; 0: none
    std::atomic<std::int64_t> token_lifetime{0};  // seconds the cookie is worth keeping

    /// The request's, made on first use from the token it carries (header, else cookie).
    static std::shared_ptr<read_position> of(const request& req);

    /// Where a read-only session of the request must find a replica (0: anywhere).
    wal_position must_see() const noexcept { return read_after.load(std::memory_order_acquire); }
    /// A commit on the primary reached `at`.
    void note_commit(wal_position at, std::chrono::seconds lifetime) noexcept;
};

/// Puts the token on `res` when the request committed on the primary (header and cookie).
void hand_out_read_position(const request& req, response& res);

}  // namespace keel::detail
