#include <keel/detail/handler.hpp>

namespace keel::detail {

response void_response(keel::status success) {
    if (is_bodiless(success)) return response(success);
    return response(success, "null", "application/json");
}

}  // namespace keel::detail
