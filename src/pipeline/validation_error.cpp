#include <keel/validation_error.hpp>

namespace keel {

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
