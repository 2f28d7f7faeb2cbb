#pragma once

// A read-only view of one parsed JSON value whose accessors are compiled once, in src/: a
// handler file that reads models and bodies never instantiates nlohmann_json's templates, and
// needs only <nlohmann/json_fwd.hpp>.

#include <cstddef>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>

namespace keel::detail {

class json_node {
public:
    explicit json_node(const nlohmann::json& value) noexcept : value_(&value) {}

    bool is_null() const noexcept;
    bool is_boolean() const noexcept;
    bool is_integer() const noexcept;  // a JSON number written without fraction or exponent
    bool is_number() const noexcept;
    bool is_string() const noexcept;
    bool is_array() const noexcept;
    bool is_object() const noexcept;

    // Each of these requires the matching is_...() to be true.
    bool boolean() const noexcept;
    bool is_unsigned_integer() const noexcept;  // a non-negative integer: read unsigned_integer()
    std::uint64_t unsigned_integer() const noexcept;
    std::int64_t signed_integer() const noexcept;
    double number() const noexcept;
    const std::string& string() const noexcept;
    std::size_t size() const noexcept;                                 // of an array
    json_node operator[](std::size_t i) const noexcept;                // an array's element
    std::optional<json_node> member(const char* name) const noexcept;  // an object's member

    const nlohmann::json& json() const noexcept { return *value_; }

private:
    const nlohmann::json* value_;
};

/// A parsed JSON document, owned; nlohmann's type stays out of the header. The value lives in
/// the object itself (no allocation per request body): src/http/json_node.cpp checks that the
/// storage fits nlohmann::json.
class json_document {
public:
    explicit json_document(nlohmann::json&& value) noexcept;
    json_document(json_document&& other) noexcept;
    json_document& operator=(json_document&& other) noexcept;
    json_document(const json_document&) = delete;
    json_document& operator=(const json_document&) = delete;
    ~json_document();

    json_node root() const noexcept;
    nlohmann::json& value() noexcept;
    const nlohmann::json& value() const noexcept;

private:
    alignas(8) unsigned char storage_[16];  // a nlohmann::json: a type tag and a value union
};

}  // namespace keel::detail
