#include <keel/testing/client.hpp>

#include <keel/detail/blocking.hpp>

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
    std::optional<response> result;
    std::exception_ptr failure;
    // No worker pool on this thread, so offloaded work runs inline and the task completes here.
    // The thread plays an I/O thread meanwhile, as a server's would: a blocking call made
    // outside keel::offload fails here as it would in production.
    const keel::detail::thread_role io(true);
    keel::detail::start_detached(app_.handle(req),
                                 [&](std::optional<response> res, const std::exception_ptr& error) {
                                     result = std::move(res);
                                     failure = error;
                                 });
    if (failure) std::rethrow_exception(failure);
    if (!result) throw std::logic_error("keel::testing::client: the request did not complete in-process");
    keel::detail::echo_request_id(req, *result);
    if (req.method() == method::head) result->body().clear();
    return test_response(std::move(*result));
}

}  // namespace keel::testing
