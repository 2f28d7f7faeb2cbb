#pragma once

#include <keel/header_map.hpp>
#include <keel/status.hpp>

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

namespace keel {

/// What a handler answers: a status, header fields and a body.
///
/// `Content-Length`, `Date`, `Server` and `Connection` are written by the server; setting
/// them here has no effect on framing.
class response {
public:
    response() = default;
    explicit response(keel::status code, std::string body = {}, std::string_view content_type = {});

    /// `value` serialised as JSON, `Content-Type: application/json`.
    static response json(const nlohmann::json& value, keel::status code = keel::status::ok);
    /// A text body, `Content-Type: text/plain; charset=utf-8` unless `content_type` says otherwise.
    static response text(std::string body, keel::status code = keel::status::ok,
                         std::string_view content_type = "text/plain; charset=utf-8");
    /// Raw bytes, `Content-Type: application/octet-stream` unless `content_type` says otherwise.
    static response bytes(std::string body, std::string_view content_type = "application/octet-stream",
                          keel::status code = keel::status::ok);
    /// A body-less answer, 204 unless told otherwise.
    static response empty(keel::status code = keel::status::no_content);

    keel::status status() const noexcept { return status_; }
    void set_status(keel::status code) noexcept { status_ = code; }

    const header_map& headers() const noexcept { return headers_; }
    header_map& headers() noexcept { return headers_; }

    const std::string& body() const noexcept { return body_; }
    std::string& body() noexcept { return body_; }

private:
    keel::status status_ = keel::status::ok;
    header_map headers_;
    std::string body_;
};

}  // namespace keel
