#pragma once

#include <string>
#include <vector>

namespace keel {

/// The app's OpenAPI 3.1 document: what its `info` says and where it is served.
/// `app.openapi({.title = "bank", .version = "1.2.0"});` before the app is built.
struct openapi_options {
    std::string title = "keel service";
    std::string version = "0.1.0";
    std::string description{};           ///< CommonMark
    std::vector<std::string> servers{};  ///< base URLs for the `servers` list; none by default
    /// Where the document is served (GET, application/json); empty: not served. It is built
    /// either way, and app.openapi_document() returns it.
    std::string path = "/openapi.json";
};

}  // namespace keel
