#pragma once

// Watching a PostgreSQL server's backends from a connection of the test's own: acting on a
// statement once it runs, without a fixed delay that a loaded machine could outlast.

#include <pqxx/pqxx>

#include <chrono>
#include <string>
#include <thread>

namespace keel_test {

/// Runs `probe` (a query of one count) on a connection to `server_url` every 10 ms until
/// `done(count)`, for at most `limit`; whether it was done.
template <class Done>
bool poll_count(const std::string& server_url, const std::string& probe, Done done,
                std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    pqxx::connection c(server_url);
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        if (done(pqxx::nontransaction(c).exec1(probe)[0].template as<int>())) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

/// pg_stat_activity's condition for a backend sleeping (pg_sleep) in a statement containing
/// `marker`. Sleeping, not merely active: PostgreSQL shows a statement active while it only
/// parses it, and the blocking session prepares a statement in an exchange of its own before
/// the round trip that runs it.
inline std::string sleeping_in(const std::string& marker) {
    return "wait_event = 'PgSleep' AND query LIKE '%" + marker + "%' AND pid <> pg_backend_pid()";
}

/// Runs `act` (once) as soon as a backend of `server_url` sleeps in a statement containing
/// `marker`, within 10 s. (A std::jthread: joined however the test ends.)
template <class Act>
std::jthread when_sleeping(std::string server_url, std::string marker, Act act) {
    return std::jthread([server_url = std::move(server_url), marker = std::move(marker), act] {
        if (poll_count(server_url, "SELECT count(*) FROM pg_stat_activity WHERE " + sleeping_in(marker),
                       [](int sleepers) { return sleepers > 0; }))
            act();
    });
}

/// Terminates the backend of `server_url` sleeping in a statement containing `marker` as soon
/// as it sleeps, within 10 s.
inline std::jthread terminate_when_sleeping(std::string server_url, std::string marker) {
    return std::jthread([server_url = std::move(server_url), marker = std::move(marker)] {
        poll_count(
            server_url,
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE " + sleeping_in(marker),
            [](int terminated) { return terminated > 0; });
    });
}

}  // namespace keel_test
