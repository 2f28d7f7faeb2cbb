#pragma once

#include <keel/header_map.hpp>
#include <keel/status.hpp>

#include <stdexcept>
#include <string>

namespace keel {

/// Thrown anywhere in a request (handler, dependency, middleware) to answer with `code`
/// and the body `{"detail": detail}`; `headers` are added to the response
/// (e.g. `WWW-Authenticate`, `Retry-After`). An empty detail becomes the reason phrase.
class http_error : public std::runtime_error {
public:
    http_error(keel::status code, std::string detail = {}, header_map headers = {});
    http_error(int code, std::string detail = {}, header_map headers = {});

    keel::status status() const noexcept { return status_; }
    const std::string& detail() const noexcept { return detail_; }
    const header_map& headers() const noexcept { return headers_; }

private:
    keel::status status_;
    std::string detail_;
    header_map headers_;
};

}  // namespace keel
