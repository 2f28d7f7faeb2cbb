#pragma once

#include <keel/detail/handler_info.hpp>
#include <keel/detail/schema_of.hpp>
#include <keel/method.hpp>
#include <keel/status.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace keel {

namespace detail {
// A status a route declares beside its success, for the OpenAPI document.
struct declared_response {
    keel::status code = keel::status::ok;
    std::string description;
    keel::schema_writer schema = nullptr;  // null: keel's {"detail": "..."} error body
};

// What the OpenAPI document says of a route beyond its types.
struct operation_doc {
    std::string summary;
    std::string description;
    std::string operation_id;  // empty: derived from the method and the path
    std::vector<std::string> tags;
    bool deprecated = false;
    bool in_schema = true;
    std::string media_type;  // a keel::response answer's content type
    std::vector<declared_response> responses;
};

// One registered route; shared by the router that registered it and the app's route table.
struct route_spec {
    keel::method method = keel::method::get;
    std::string path;  // the full template, prefixes included
    std::shared_ptr<const handler_info> handler;
    keel::status success_status = keel::status::ok;
    int conflict_attempts = 1;             // 1: no retry
    std::chrono::milliseconds timeout{0};  // the request's deadline; 0: the server's request_timeout
    operation_doc doc;
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

    /// This route's requests must be answered within `limit` of their first byte, instead of
    /// the server's request_timeout (longer or shorter): see keel::request::deadline.
    route& timeout(std::chrono::milliseconds limit);

    /// What the OpenAPI document says of this route: a one-line summary and a longer
    /// description (CommonMark), its operationId (default: the method and path,
    /// `get_users_id` for GET /users/{id}), and a tag to group it under (routers give theirs).
    route& summary(std::string_view text);
    route& description(std::string_view text);
    route& operation_id(std::string_view id);
    route& tag(std::string_view name);
    route& deprecated(bool yes = true) noexcept;
    /// Leaves the route out of the OpenAPI document (it is still served).
    route& include_in_schema(bool yes) noexcept;
    /// The content type of the success answer, for a handler that returns keel::response
    /// (whose content its type does not tell), e.g. "text/plain".
    route& media_type(std::string_view type);
    /// Another status this route answers with keel's error body `{"detail": "..."}` (an
    /// http_error), documented with `description`: `.response(keel::status::not_found, "No
    /// such user")`. With a type, the body is that type's JSON: `.response<problem>(...)`.
    route& response(keel::status code, std::string_view description);
    template <class T>
    route& response(keel::status code, std::string_view description) {
        return add_response(code, description, &detail::schema_of<T>);
    }

    keel::method method() const noexcept { return spec_->method; }
    const std::string& path() const noexcept { return spec_->path; }

private:
    route& add_response(keel::status code, std::string_view description, keel::schema_writer schema);

    std::shared_ptr<detail::route_spec> spec_;
};

}  // namespace keel
