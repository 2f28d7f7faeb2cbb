#pragma once

#include <keel/header_map.hpp>
#include <keel/method.hpp>
#include <keel/testing/json.hpp>
#include <keel/testing/test_response.hpp>

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace keel::testing::detail {

/// The per-method request helpers both test clients offer, written once over the derived
/// client's `send(method, target, body, headers)`.
template <class Client>
class request_methods {
public:
    test_response get(std::string_view target, header_map headers = {}) {
        return send_empty(method::get, target, headers);
    }
    test_response head(std::string_view target, header_map headers = {}) {
        return send_empty(method::head, target, headers);
    }
    test_response delete_(std::string_view target, header_map headers = {}) {
        return send_empty(method::delete_, target, headers);
    }
    test_response options(std::string_view target, header_map headers = {}) {
        return send_empty(method::options, target, headers);
    }
    /// With a JSON body (`Content-Type: application/json` unless the headers say otherwise).
    test_response post(std::string_view target, const nlohmann::json& body, header_map headers = {}) {
        return send_json(method::post, target, body, headers);
    }
    test_response put(std::string_view target, const nlohmann::json& body, header_map headers = {}) {
        return send_json(method::put, target, body, headers);
    }
    test_response patch(std::string_view target, const nlohmann::json& body, header_map headers = {}) {
        return send_json(method::patch, target, body, headers);
    }
    /// Without a body: `post(url, nullptr)` sends none (as FastAPI's `json=None` does). To send
    /// the JSON value null, pass `nlohmann::json(nullptr)`.
    test_response post(std::string_view target, std::nullptr_t, header_map headers = {}) {
        return send_empty(method::post, target, headers);
    }
    test_response put(std::string_view target, std::nullptr_t, header_map headers = {}) {
        return send_empty(method::put, target, headers);
    }
    test_response patch(std::string_view target, std::nullptr_t, header_map headers = {}) {
        return send_empty(method::patch, target, headers);
    }

private:
    test_response send_empty(keel::method m, std::string_view target, header_map& headers) {
        return static_cast<Client&>(*this).send(m, target, std::string{}, std::move(headers));
    }
    test_response send_json(keel::method m, std::string_view target, const nlohmann::json& body,
                            header_map& headers) {
        if (!headers.contains("Content-Type")) headers.set("Content-Type", "application/json");
        return static_cast<Client&>(*this).send(m, target, json_text(body), std::move(headers));
    }
};

}  // namespace keel::testing::detail
