#pragma once

// The interactive docs page (Swagger UI) and the files it loads, made once when the app is built.
// Private to keel.

#include <keel/openapi_options.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace keel::detail {

/// One file the app serves as it is: the same bytes for every request. Swagger UI's own files
/// stay where they are built into the library; only the page and its start-up are made.
struct served_file {
    std::string path;
    std::string made;            // the page, its start-up script
    std::string_view bundled{};  // Swagger UI's files, in the library: not copied per app
    std::string content_type;
    std::string cache_control;
    std::string content_security_policy{};  // the page's own; none for the files it loads

    std::string_view body() const noexcept { return bundled.empty() ? std::string_view(made) : bundled; }
};

/// The page at options.docs_path, its start-up script, and (docs_assets::bundled) Swagger UI's
/// script and style sheet; none when either the page or the document is not served. Throws
/// std::logic_error for bundled assets keel was built without.
std::vector<served_file> docs_files(const openapi_options& options);

/// The URL that leads from the page at `from` to `to`, both absolute paths: relative, so that
/// the page still works when a proxy serves the app under a prefix.
std::string relative_url(std::string_view from, std::string_view to);

/// Swagger UI's files built into keel (swagger-ui-dist from the npm registry, tools/swagger-ui),
/// or empty when keel was built without them (KEEL_BUNDLE_SWAGGER_UI=OFF).
std::string_view bundled_swagger_ui_script();
std::string_view bundled_swagger_ui_style();

}  // namespace keel::detail
