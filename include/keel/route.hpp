#pragma once

#include <keel/detail/handler_info.hpp>
#include <keel/method.hpp>
#include <keel/status.hpp>

#include <memory>
#include <string>
#include <vector>

namespace keel {

namespace detail {
// One registered route; shared by the router that registered it and the app's route table.
struct route_spec {
    keel::method method = keel::method::get;
    std::string path;  // the full template, prefixes included
    std::shared_ptr<const handler_info> handler;
    keel::status success_status = keel::status::ok;
    int conflict_attempts = 1;  // 1: no retry
};
}  // namespace detail

/// A registered route, returned by `get`, `post`, ... to set its options:
/// `app.post("/users", create_user).status(keel::status::created);`
class route {
public:
    explicit route(std::shared_ptr<detail::route_spec> spec) noexcept : spec_(std::move(spec)) {}

    /// The status of a successful answer when the handler returns a value (default 200).
    route& status(keel::status code) noexcept;
    route& status(int code);

    /// Re-runs the whole handler — its request-scoped dependencies made afresh, so a new
    /// session and transaction — while it fails with a serialization failure or deadlock, up to
    /// `attempts` tries in all, with jittered back-off. Nothing has been written to the client
    /// when a retry starts; a commit_in_doubt is never retried.
    route& retry_on_conflict(int attempts = 3);

    keel::method method() const noexcept { return spec_->method; }
    const std::string& path() const noexcept { return spec_->path; }

private:
    std::shared_ptr<detail::route_spec> spec_;
};

}  // namespace keel
