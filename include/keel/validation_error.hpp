#pragma once

#include <exception>
#include <string>
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

}  // namespace keel
