#include <keel/http_error.hpp>

#include <stdexcept>
#include <string>

namespace keel {

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

}  // namespace keel
