#pragma once

#include <string>
#include <vector>

namespace keel {

/// Where the interactive docs page gets Swagger UI's script and style sheet.
enum class docs_assets {
    bundled,  ///< served by the app itself, from the copy built into keel: no internet needed
    cdn,      ///< loaded by the browser from openapi_options::cdn_url
};

/// The app's OpenAPI 3.1 document and its interactive docs page: what `info` says and where
/// they are served. `app.openapi({.title = "bank", .version = "1.2.0"});` before the app is built.
struct openapi_options {
    std::string title = "keel service";
    std::string version = "0.1.0";
    std::string description{};           ///< CommonMark
    std::vector<std::string> servers{};  ///< base URLs for the `servers` list; none by default
    /// Where the document is served (GET, application/json); empty: not served. It is built
    /// either way, and app.openapi_document() returns it.
    std::string path = "/openapi.json";
    /// Where the docs page (Swagger UI, GET, text/html) is served; empty: not served, nor when
    /// the document is not. Its files are served under it (`/docs/swagger-ui-bundle.js`, ...).
    std::string docs_path = "/docs";
    docs_assets assets = docs_assets::bundled;
    /// With docs_assets::cdn: the base URL of swagger-ui-dist's files.
    std::string cdn_url = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5.35.0";
};

}  // namespace keel
