#include <keel/testing/client.hpp>

#include <keel/sync_wait.hpp>

#include "http/request_identity.hpp"

#include <stdexcept>

namespace keel::testing {

client::client(app& application) : app_(application) {
    app_.start();
}

client::~client() {
    app_.stop();
}

test_response client::send(keel::method m, std::string_view target, std::string body, header_map headers) {
    request req(m, std::string(target), std::move(body));
    req.headers() = std::move(headers);
    return send(std::move(req));
}

test_response client::send(request req) {
    // The request runs on an event loop of this thread's own, which plays an I/O thread as a
    // server's would: a blocking call made outside keel::offload fails here as it would in
    // production, awaited sessions wait on this loop, and offloaded work runs inline (there
    // is no worker pool).
    std::optional<response> result = keel::sync_wait(app_.handle(req));
    keel::detail::echo_request_id(req, *result);
    if (req.method() == method::head) result->body().clear();
    return test_response(std::move(*result));
}

}  // namespace keel::testing
