#include <keel/security_headers.hpp>

#include <memory>
#include <utility>
#include <vector>

namespace keel {

middleware security_headers(const security_headers_options& options) {
    // Worked out once: each request only copies the headers its answer lacks.
    auto always = std::make_shared<std::vector<std::pair<std::string, std::string>>>();
    const auto add = [&](const char* name, const std::string& value) {
        if (!value.empty()) always->emplace_back(name, value);
    };
    add("X-Content-Type-Options", options.content_type_options);
    add("Referrer-Policy", options.referrer_policy);
    add("X-Frame-Options", options.frame_options);
    add("Content-Security-Policy", options.content_security_policy);
    std::string hsts;
    if (options.hsts_max_age.count() > 0) {
        hsts = "max-age=" + std::to_string(options.hsts_max_age.count());
        if (options.hsts_include_subdomains) hsts += "; includeSubDomains";
    }
    return [always, hsts = std::move(hsts)](request& req, next call_next) -> task<response> {
        auto res = co_await call_next(req);
        auto& headers = res.headers();
        for (const auto& [name, value] : *always) {
            if (!headers.get(name)) headers.set(name, value);
        }
        if (!hsts.empty() && req.secure() && !headers.get("Strict-Transport-Security"))
            headers.set("Strict-Transport-Security", hsts);
        co_return res;
    };
}

}  // namespace keel
