#pragma once

#include <keel/app.hpp>
#include <keel/header_map.hpp>
#include <keel/method.hpp>
#include <keel/response.hpp>
#include <keel/testing/detail/request_methods.hpp>
#include <keel/testing/test_response.hpp>

#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

namespace keel::testing {

/// Drives an app in-process: the same middleware, routing, binding and error handling as the
/// real server, without a socket or a thread. Making one builds and starts the app (its
/// lifespan's start-up); destroying it shuts the app down.
///
/// Blocking handlers run inline on the test's thread. Not thread safe: one client per thread.
class client : public detail::request_methods<client> {
public:
    /// Builds the app and runs its start-up hooks.
    explicit client(app& application);
    /// Runs the app's shut-down: hooks, then its app-scoped services are destroyed.
    ~client();
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    // get, head, delete_, options, post, put and patch come from request_methods.

    /// Any method, any body, exactly the fields given.
    test_response send(keel::method m, std::string_view target, std::string body = {},
                       header_map headers = {});
    /// A fully formed request.
    test_response send(request req);

    /// Replaces `provider` with `replacement` until the returned guard goes out of scope:
    /// `auto restore = client.override(get_session, use_test_session);`
    template <class R, class... A, class F>
    [[nodiscard]] dependency_overrides::guard override(R (*provider)(A...), F replacement) {
        return app_.dependency_overrides.scoped(provider, std::move(replacement));
    }

private:
    app& app_;
};

}  // namespace keel::testing
