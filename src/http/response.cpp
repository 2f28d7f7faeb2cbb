#include <keel/http_error.hpp>
#include <keel/response.hpp>
#include <keel/validation_error.hpp>

#include <nlohmann/json.hpp>

namespace keel {

response::response(keel::status code, std::string body, std::string_view content_type)
    : status_(code), body_(std::move(body)) {
    if (!content_type.empty()) headers_.set("Content-Type", std::string(content_type));
}

response response::json(const nlohmann::json& value, keel::status code) {
    // Invalid UTF-8 in a string is replaced rather than thrown: a response must always be writable.
    return response(code, value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
}

response response::text(std::string body, keel::status code, std::string_view content_type) {
    return response(code, std::move(body), content_type);
}

response response::bytes(std::string body, std::string_view content_type, keel::status code) {
    return response(code, std::move(body), content_type);
}

response response::empty(keel::status code) { return response(code); }

namespace {
std::string detail_or_reason(keel::status code, std::string detail) {
    return detail.empty() ? std::string(reason_phrase(code)) : std::move(detail);
}
}  // namespace

http_error::http_error(keel::status code, std::string detail, header_map headers)
    : std::runtime_error(detail_or_reason(code, detail)),
      status_(code),
      detail_(detail_or_reason(code, std::move(detail))),
      headers_(std::move(headers)) {}

http_error::http_error(int code, std::string detail, header_map headers)
    : http_error(static_cast<keel::status>(code), std::move(detail), std::move(headers)) {
    if (code < 100 || code > 999) throw std::invalid_argument("keel::http_error: status must be 100..999");
}

validation_error::validation_error(std::vector<field_error> errors) : errors_(std::move(errors)) {
    what_ = "request validation failed:";
    for (const auto& e : errors_) {
        what_ += ' ';
        for (std::size_t i = 0; i < e.loc.size(); ++i) {
            if (i) what_ += '.';
            what_ += e.loc[i];
        }
        what_ += ": " + e.msg + ';';
    }
}

}  // namespace keel
