// CORS as the Fetch standard has it (https://fetch.spec.whatwg.org/#http-cors-protocol): a
// preflight is answered here, before routing; an actual request is served, and its answer
// says whether the page that sent it may read it.

#include <keel/cors.hpp>
#include <keel/header_map.hpp>

#include <re2/re2.h>

#include <algorithm>
#include <memory>
#include <stdexcept>

namespace keel {

namespace {

bool has(const std::vector<std::string>& list, std::string_view value) {
    return std::find(list.begin(), list.end(), value) != list.end();
}

bool has_ignoring_case(const std::vector<std::string>& list, std::string_view value) {
    return std::any_of(list.begin(), list.end(),
                       [&](const std::string& item) { return iequals(item, value); });
}

std::string joined(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) {
        if (!out.empty()) out += ", ";
        out += item;
    }
    return out;
}

void add_vary_origin(header_map& headers) {
    if (const auto vary = headers.get("Vary")) {
        if (!iequals(*vary, "*") && vary->find("Origin") == std::string_view::npos)
            headers.set("Vary", std::string(*vary) + ", Origin");
    } else {
        headers.set("Vary", "Origin");
    }
}

class cors_policy {
public:
    explicit cors_policy(cors_options options) : options_(std::move(options)) {
        any_origin_ = has(options_.allow_origins, "*");
        any_method_ = has(options_.allow_methods, "*");
        any_header_ = has(options_.allow_headers, "*");
        if (any_origin_ && options_.allow_credentials)
            throw std::invalid_argument(
                "keel: cors: allow_origins \"*\" with allow_credentials would let every site act with "
                "its visitors' credentials; name the origins that may");
        if (!options_.allow_origin_pattern.empty()) {
            pattern_ = std::make_unique<RE2>(options_.allow_origin_pattern, RE2::Quiet);
            if (!pattern_->ok())
                throw std::invalid_argument("keel: cors: allow_origin_pattern: " + pattern_->error());
        }
        for (const char* safelisted : {"Accept", "Accept-Language", "Content-Language", "Content-Type"}) {
            if (!has_ignoring_case(options_.allow_headers, safelisted))
                options_.allow_headers.emplace_back(safelisted);
        }
        methods_ =
            any_method_ ? "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS" : joined(options_.allow_methods);
        headers_ = joined(options_.allow_headers);
        exposed_ = joined(options_.expose_headers);
        max_age_ = std::to_string(options_.max_age.count());
    }

    task<response> handle(request& req, next call_next) const {
        const auto sent = req.header("Origin");
        if (!sent) co_return co_await call_next(req);
        if (req.method() == method::options && req.header("Access-Control-Request-Method"))
            co_return preflight(req, *sent);
        const std::string origin(*sent);  // the request's headers may change meanwhile
        auto res = co_await call_next(req);
        if (allows_origin(origin)) {
            auto& headers = res.headers();
            allow_origin(headers, origin);
            if (!exposed_.empty()) headers.set("Access-Control-Expose-Headers", exposed_);
        }
        co_return res;
    }

private:
    bool allows_origin(std::string_view origin) const {
        if (any_origin_ || has(options_.allow_origins, origin)) return true;
        return pattern_ && RE2::FullMatch(re2::StringPiece(origin.data(), origin.size()), *pattern_);
    }

    // "*" only when any origin may and nothing depends on who asked; else the origin itself,
    // and caches must keep answers apart by origin.
    void allow_origin(header_map& headers, std::string_view origin) const {
        if (any_origin_ && !pattern_) {
            headers.set("Access-Control-Allow-Origin", "*");
        } else {
            headers.set("Access-Control-Allow-Origin", std::string(origin));
            add_vary_origin(headers);
        }
        if (options_.allow_credentials) headers.set("Access-Control-Allow-Credentials", "true");
    }

    response preflight(const request& req, std::string_view origin) const {
        std::vector<std::string> refused;
        if (!allows_origin(origin)) refused.emplace_back("origin");
        const auto requested_method = trim_whitespace(*req.header("Access-Control-Request-Method"));
        if (!any_method_ && !has(options_.allow_methods, requested_method)) refused.emplace_back("method");
        const auto requested_headers = req.header("Access-Control-Request-Headers").value_or("");
        if (!any_header_) {
            std::string_view rest = requested_headers;
            while (!rest.empty()) {
                const auto comma = std::min(rest.find(','), rest.size());
                const auto name = trim_whitespace(rest.substr(0, comma));
                rest.remove_prefix(std::min(comma + 1, rest.size()));
                if (!name.empty() && !has_ignoring_case(options_.allow_headers, name)) {
                    refused.emplace_back("headers");
                    break;
                }
            }
        }
        response res = refused.empty() ? response(status::ok, "OK", "text/plain; charset=utf-8")
                                       : response(status::bad_request, "Disallowed CORS " + joined(refused),
                                                  "text/plain; charset=utf-8");
        auto& headers = res.headers();
        add_vary_origin(headers);
        if (refused.empty() || allows_origin(origin)) allow_origin(headers, origin);
        headers.set("Access-Control-Allow-Methods", methods_);
        // Any header: the ones asked for (a "*" answer would not cover Authorization).
        headers.set("Access-Control-Allow-Headers",
                    any_header_ && !requested_headers.empty() ? std::string(requested_headers) : headers_);
        headers.set("Access-Control-Max-Age", max_age_);
        return res;
    }

    cors_options options_;
    bool any_origin_ = false;
    bool any_method_ = false;
    bool any_header_ = false;
    std::unique_ptr<RE2> pattern_;
    std::string methods_, headers_, exposed_, max_age_;
};

}  // namespace

middleware cors(cors_options options) {
    auto policy = std::make_shared<const cors_policy>(std::move(options));
    return [policy](request& req, next call_next) { return policy->handle(req, call_next); };
}

}  // namespace keel
