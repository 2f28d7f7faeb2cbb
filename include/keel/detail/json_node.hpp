#pragma once

// A read-only view of one parsed JSON value whose accessors are compiled once, in src/: a
// handler file that reads models and bodies never instantiates nlohmann_json's templates, and
// needs only <nlohmann/json_fwd.hpp>.

#include <cstddef>
#include <cstdint>
#include <memory>
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

/// A parsed JSON document, owned; nlohmann's type stays out of the header.
class json_document {
public:
    explicit json_document(nlohmann::json&& value);
    json_document(json_document&&) noexcept;
    json_document& operator=(json_document&&) noexcept;
    ~json_document();

    json_node root() const noexcept { return json_node(*value_); }
    nlohmann::json& value() noexcept { return *value_; }

private:
    std::unique_ptr<nlohmann::json> value_;
};

}  // namespace keel::detail
