#pragma once

#include <keel/app.hpp>
#include <keel/header_map.hpp>
#include <keel/method.hpp>
#include <keel/response.hpp>

#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

namespace keel::testing {

/// A response as a test sees it: status, fields, body, and the body parsed as JSON.
class test_response : public response {
public:
    explicit test_response(response res) : response(std::move(res)) {}

    const std::string& text() const noexcept { return body(); }
    /// The body parsed as JSON; throws nlohmann::json::parse_error when it is not JSON.
    nlohmann::json json() const { return nlohmann::json::parse(body()); }
    std::optional<std::string_view> header(std::string_view name) const { return headers().get(name); }
};

/// GoogleTest prints this when an assertion on a response fails: status, fields and body.
std::ostream& operator<<(std::ostream& os, const test_response& res);

/// Drives an app in-process: the same middleware, routing, binding and error handling as the
/// real server, without a socket or a thread. Making one builds and starts the app (its
/// lifespan's start-up); destroying it shuts the app down.
///
/// Blocking handlers run inline on the test's thread. Not thread safe: one client per thread.
class client {
public:
    /// Builds the app and runs its start-up hooks.
    explicit client(app& application);
    /// Runs the app's shut-down: hooks, then its app-scoped services are destroyed.
    ~client();
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    test_response get(std::string_view target, header_map headers = {});
    test_response head(std::string_view target, header_map headers = {});
    test_response delete_(std::string_view target, header_map headers = {});
    test_response options(std::string_view target, header_map headers = {});
    /// With a JSON body (`Content-Type: application/json`).
    test_response post(std::string_view target, const nlohmann::json& body, header_map headers = {});
    test_response put(std::string_view target, const nlohmann::json& body, header_map headers = {});
    test_response patch(std::string_view target, const nlohmann::json& body, header_map headers = {});

    /// Any method, any body, exactly the fields given.
    test_response send(keel::method m, std::string_view target, std::string body = {}, header_map headers = {});
    /// A fully formed request.
    test_response send(request req);

    /// Replaces `provider` with `replacement` until the returned guard goes out of scope:
    /// `auto restore = client.override(get_session, use_test_session);`
    template <class R, class... A, class F>
    [[nodiscard]] dependency_overrides::guard override(R (*provider)(A...), F replacement) {
        return app_.dependency_overrides.scoped(provider, std::move(replacement));
    }

private:
    test_response send_json(keel::method m, std::string_view target, const nlohmann::json& body, header_map headers);

    app& app_;
};

}  // namespace keel::testing
