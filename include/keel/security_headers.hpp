#pragma once

#include <keel/middleware.hpp>

#include <chrono>
#include <string>

namespace keel {

/// The headers keel::security_headers adds to every answer that has not set them itself; an
/// empty value (or a zero max-age) leaves that header out.
struct security_headers_options {
    std::string content_type_options = "nosniff";                     ///< X-Content-Type-Options
    std::string referrer_policy = "strict-origin-when-cross-origin";  ///< Referrer-Policy
    std::string frame_options = "DENY";                               ///< X-Frame-Options
    /// Content-Security-Policy for answers without one. keel's `/docs` page always has its own,
    /// which lets it load Swagger UI and nothing else.
    std::string content_security_policy{};
    /// Strict-Transport-Security's max-age, sent only on requests that came over HTTPS (as the
    /// server saw them, or a trusted proxy said: keel::request::secure).
    std::chrono::seconds hsts_max_age{31'536'000};
    bool hsts_include_subdomains = false;
};

/// A middleware that adds the usual protective response headers:
/// `app.use(keel::security_headers());`. Register it first, so that it sees every answer,
/// errors and other middleware's included.
middleware security_headers(const security_headers_options& options = {});

}  // namespace keel
