#pragma once

#include <keel/response.hpp>
#include <keel/testing/json.hpp>

#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

namespace keel::testing {

/// A response as a test sees it: status, fields, body, and the body parsed as JSON.
class test_response : public response {
public:
    explicit test_response(response res) : response(std::move(res)) {}

    const std::string& text() const noexcept { return body(); }
    /// The body parsed as JSON; throws nlohmann::json::parse_error when it is not JSON.
    nlohmann::json json() const { return parse_json(body()); }
    std::optional<std::string_view> header(std::string_view name) const { return headers().get(name); }
};

/// GoogleTest prints this when an assertion on a response fails: status, fields and body.
std::ostream& operator<<(std::ostream& os, const test_response& res);

}  // namespace keel::testing
