#pragma once

// The app's OpenAPI 3.1 document, made from its routes' own types when the app is built.
// Private to keel.

#include <keel/openapi_options.hpp>
#include <keel/route.hpp>

#include <memory>
#include <string>
#include <vector>

namespace keel::detail {

class service_registry;

/// The document as JSON text. `services` resolves the `T&` parameters of handlers and
/// providers, whose own request values (a provider's header<>, say) belong to the operation.
std::string openapi_document(const std::vector<std::shared_ptr<route_spec>>& routes,
                             const service_registry& services, const openapi_options& options);

}  // namespace keel::detail
