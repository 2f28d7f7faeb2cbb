#include "openapi/docs_page.hpp"

#include <nlohmann/json.hpp>

#include <stdexcept>

namespace keel::detail {

namespace {

std::vector<std::string_view> segments(std::string_view path) {
    std::vector<std::string_view> out;
    while (!path.empty()) {
        if (path.front() == '/') {
            path.remove_prefix(1);
            continue;
        }
        const auto end = path.find('/');
        out.push_back(path.substr(0, end));
        path.remove_prefix(end == std::string_view::npos ? path.size() : end);
    }
    return out;
}

std::string html_escaped(std::string_view text) {
    std::string out;
    for (char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

// The page loads everything by URL and runs no inline script: a Content-Security-Policy of
// script-src 'self' (plus the CDN's origin) suits it.
std::string page(const openapi_options& options, const std::string& base) {
    const auto here = [&](std::string_view file) {
        return html_escaped(relative_url(options.docs_path, options.docs_path + '/' + std::string(file)));
    };
    const auto asset = [&](std::string_view file) {
        return options.assets == docs_assets::cdn ? html_escaped(base + '/' + std::string(file)) : here(file);
    };
    return "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>" +
           html_escaped(options.title) + " - Swagger UI</title>\n<link rel=\"stylesheet\" href=\"" +
           asset("swagger-ui.css") + "\">\n</head>\n<body>\n<div id=\"swagger-ui\"></div>\n<script src=\"" +
           asset("swagger-ui-bundle.js") + "\"></script>\n<script src=\"" + here("swagger-initializer.js") +
           "\"></script>\n</body>\n</html>\n";
}

// "https://cdn.example.com" of "https://cdn.example.com/swagger-ui/5": what a CSP source names.
std::string origin_of(std::string_view url) {
    const auto scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos) return {};
    const auto host_end = url.find('/', scheme_end + 3);
    return std::string(url.substr(0, host_end));
}

// What the page may load and do: its scripts and styles from here (or the CDN), the document and
// "Try it out" requests to here and to the servers the document names, nothing else; no
// framing. Swagger UI sets style attributes, hence style-src's 'unsafe-inline' (no script is).
std::string page_policy(const openapi_options& options, const std::string& cdn) {
    std::string assets = "'self'";
    // The CDN's directory of Swagger UI's files, not the whole CDN (which serves any package).
    if (options.assets == docs_assets::cdn && !origin_of(cdn).empty()) assets += ' ' + cdn + '/';
    std::string connect = "'self'";
    for (const auto& server : options.servers) {
        if (const auto origin = origin_of(server); !origin.empty()) connect += ' ' + origin;
    }
    return "default-src 'none'; script-src " + assets + "; style-src " + assets +
           " 'unsafe-inline'; img-src " + assets + " data:; font-src " + assets + "; connect-src " + connect +
           "; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
}

std::string initializer(const openapi_options& options) {
    // The document's URL as a JSON string literal: whatever the path holds, it stays a string.
    const auto document_url = nlohmann::json(relative_url(options.docs_path, options.path)).dump();
    return "window.onload = function () {\n"
           "  window.ui = SwaggerUIBundle({\n"
           "    url: " +
           document_url +
           ",\n"
           "    dom_id: \"#swagger-ui\",\n"
           "    deepLinking: true,\n"
           "    presets: [SwaggerUIBundle.presets.apis],\n"
           "    layout: \"BaseLayout\",\n"
           "  });\n"
           "};\n";
}

}  // namespace

std::string relative_url(std::string_view from, std::string_view to) {
    auto directory = segments(from);
    if (!directory.empty()) directory.pop_back();  // the page's own name
    const auto target = segments(to);
    std::size_t common = 0;
    while (common < directory.size() && common + 1 < target.size() && directory[common] == target[common])
        ++common;
    std::string out;
    for (std::size_t i = common; i < directory.size(); ++i) out += "../";
    for (std::size_t i = common; i < target.size(); ++i) {
        if (i > common) out += '/';
        out += target[i];
    }
    return out.empty() ? "./" : out;
}

std::vector<served_file> docs_files(const openapi_options& options) {
    if (options.docs_path.empty() || options.path.empty())
        return {};  // no document served: no page to show it
    // Rebuilt with the app, and small: a browser asks again each time. Swagger UI's own files
    // change only with keel: a day.
    const std::string fresh = "no-cache", daily = "public, max-age=86400";
    std::vector<served_file> files;
    const auto made = [&](std::string path, std::string text, const char* type) {
        files.push_back({std::move(path), std::move(text), {}, type, fresh});
    };
    const auto bundled = [&](std::string path, std::string_view bytes, const char* type) {
        files.push_back({std::move(path), {}, bytes, type, daily});
    };
    auto cdn = options.cdn_url;
    while (!cdn.empty() && cdn.back() == '/') cdn.pop_back();
    made(options.docs_path, page(options, cdn), "text/html; charset=utf-8");
    files.back().content_security_policy = page_policy(options, cdn);
    made(options.docs_path + "/swagger-initializer.js", initializer(options),
         "text/javascript; charset=utf-8");
    if (options.assets == docs_assets::bundled) {
        if (bundled_swagger_ui_script().empty())
            throw std::logic_error(
                "keel: this keel was built without Swagger UI's files (KEEL_BUNDLE_SWAGGER_UI=OFF): "
                "set openapi_options::assets to keel::docs_assets::cdn, or build keel with them");
        bundled(options.docs_path + "/swagger-ui-bundle.js", bundled_swagger_ui_script(),
                "text/javascript; charset=utf-8");
        bundled(options.docs_path + "/swagger-ui.css", bundled_swagger_ui_style(), "text/css; charset=utf-8");
    }
    return files;
}

}  // namespace keel::detail
