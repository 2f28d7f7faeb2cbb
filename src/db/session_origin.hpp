#pragma once

// Whom a session works for: what the engine's leak lines and the session's slow-statement lines
// name. Private to keel.

#include <keel/call_site.hpp>
#include <keel/logger.hpp>

#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace keel {
class request;
namespace detail {
class hangup_signal;
struct read_position;
}  // namespace detail
}  // namespace keel

namespace keel::detail {

/// Marks what the calling thread is doing for the object's life: keel sets it while it runs a
/// request's providers, its plain handler and their teardown (`req` the request), and an app
/// hook or readiness check (`req` null). A session opened meanwhile names that request and logs
/// through that logger. Nests; restores what was there before.
class working_for {
public:
    working_for(const request* req, const logger& log) noexcept;
    ~working_for();
    working_for(const working_for&) = delete;
    working_for& operator=(const working_for&) = delete;

    static const request* current_request() noexcept;
    /// The logger of what the thread works for, else keel's own (text on stderr).
    static const logger& current_logger() noexcept;

private:
    const request* outer_request_;
    const logger* outer_logger_;
};

/// Copied when a session is opened, so that it stays valid however long the session lives.
struct session_origin {
    std::string request_id;  // these four are empty outside a request
    std::string trace_id;
    std::string method;
    std::string route;
    call_site where;
    const logger* log = nullptr;  // never null once made by here()
    /// The request's deadline (keel::request::deadline); max() outside a request.
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
    /// Where the server reports the request's client hanging up (null outside a served request).
    std::shared_ptr<hangup_signal> hangup;
    /// The request's read-your-writes positions (null outside a request).
    std::shared_ptr<read_position> position;

    /// What the calling thread works for (see working_for), opened at `where`.
    static session_origin here(call_site where);

    /// `get_session.cpp:6 (get_session)`: the file's name, line and function.
    std::string opened_at() const;

    /// Logs `message` through `log` with the origin's fields (request_id, trace_id, method,
    /// route, opened_at), then `own`.
    void report(log_level level, std::string_view message, std::span<const log_field> own) const;
};

}  // namespace keel::detail
