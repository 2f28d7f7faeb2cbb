#include <keel/response.hpp>

#include <nlohmann/json.hpp>

namespace keel {

response::response(keel::status code, std::string body, std::string_view content_type)
    : status_(code), body_(std::move(body)) {
    if (!content_type.empty()) {
        headers_.reserve(2);  // one allocation for it and the X-Request-ID every answer gets
        headers_.add("Content-Type", std::string(content_type));
    }
}

response response::json(const nlohmann::json& value, keel::status code) {
    // Invalid UTF-8 in a string is replaced rather than thrown: a response must always be writable.
    return response(code, value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                    "application/json");
}

response response::text(std::string body, keel::status code, std::string_view content_type) {
    return response(code, std::move(body), content_type);
}

response response::bytes(std::string body, std::string_view content_type, keel::status code) {
    return response(code, std::move(body), content_type);
}

response response::empty(keel::status code) {
    return response(code);
}

}  // namespace keel
