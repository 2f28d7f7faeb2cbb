#pragma once

#include <keel/middleware.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace keel {

/// Which cross-origin requests browsers may make (see keel::cors). Names follow Starlette's
/// CORSMiddleware, which FastAPI uses.
struct cors_options {
    /// Origins allowed, exactly as browsers send them ("https://app.example.com"), or "*" for any.
    std::vector<std::string> allow_origins{};
    /// Origins allowed besides: those the whole of this RE2 pattern matches
    /// ("https://[a-z0-9-]+\\.example\\.com").
    std::string allow_origin_pattern{};
    /// Methods a preflight may ask for; "*" for any.
    std::vector<std::string> allow_methods{"GET", "HEAD"};
    /// Request headers a preflight may ask for, besides the CORS-safelisted ones (Accept,
    /// Accept-Language, Content-Language, Content-Type); "*" for any.
    std::vector<std::string> allow_headers{};
    /// Response headers the page's script may read, besides the safelisted ones.
    std::vector<std::string> expose_headers{};
    /// Whether the browser may send cookies and Authorization (Access-Control-Allow-Credentials).
    /// Refused together with a "*" origin: name the origins that may.
    bool allow_credentials = false;
    /// How long a browser may cache a preflight's answer.
    std::chrono::seconds max_age{600};
};

/// A middleware that answers CORS preflights (`OPTIONS` with `Access-Control-Request-Method`)
/// itself — 200 with the allowed origin, methods and headers, or 400 naming what is not
/// allowed, the handler never reached — and adds `Access-Control-Allow-Origin` (and the rest) to
/// the answers to allowed origins. Requests without `Origin` pass untouched.
/// ```
/// app.use(keel::cors({.allow_origins = {"https://app.example.com"},
///                     .allow_methods = {"GET", "POST"}, .allow_headers = {"Authorization"}}));
/// ```
/// Throws std::invalid_argument for options that cannot be honoured (a "*" origin with
/// credentials, an invalid pattern).
middleware cors(cors_options options);

}  // namespace keel
