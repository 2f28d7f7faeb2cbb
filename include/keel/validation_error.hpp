#pragma once

#include <exception>
#include <string>
#include <utility>
#include <vector>

namespace keel {

/// One value that failed to bind, in FastAPI's shape:
/// `{"loc": ["query", "limit"], "msg": "value is not a valid integer", "type": "type_error.integer"}`.
struct field_error {
    std::vector<std::string> loc;  ///< where: "path" / "query" / "header" / "body", then the name(s)
    std::string msg;               ///< for people
    std::string type;              ///< for programs (pydantic's error types)
};

/// The request's parameters or body did not fit the handler's declaration: answered 422 with
/// `{"detail": [field_error...]}`, naming every field that failed. Handlers may throw it too.
class validation_error : public std::exception {
public:
    explicit validation_error(std::vector<field_error> errors);

    const std::vector<field_error>& errors() const noexcept { return errors_; }
    const char* what() const noexcept override { return what_.c_str(); }

private:
    std::vector<field_error> errors_;
    std::string what_;
};

/// Thrown by the from_json of a field type of your own (one nlohmann_json reads) to refuse a
/// value: the binder reports it at the field's location, with your message and type, beside the
/// request's other failures: `throw keel::invalid_value("not a valid IBAN", "value_error.iban");`.
/// (Any other exception such a from_json throws for a value, nlohmann_json's own among them, is
/// reported as `"value is not valid"`, never with the library's text.)
class invalid_value : public std::exception {
public:
    explicit invalid_value(std::string msg, std::string type = "value_error")
        : msg_(std::move(msg)), type_(std::move(type)) {}

    const std::string& msg() const noexcept { return msg_; }
    const std::string& type() const noexcept { return type_; }
    const char* what() const noexcept override { return msg_.c_str(); }

private:
    std::string msg_;
    std::string type_;
};

}  // namespace keel
