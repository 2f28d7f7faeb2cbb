#include <keel/enum.hpp>

namespace keel::detail {

parse_failure enum_mismatch(const std::string_view* names, std::size_t count) {
    std::string msg = "value is not a valid enumeration member; permitted: ";
    for (std::size_t i = 0; i < count; ++i) {
        if (i) msg += ", ";
        msg += "'";
        msg += names[i];
        msg += "'";
    }
    return {std::move(msg), "type_error.enum"};
}

void throw_unnamed_enum_value(std::string_view type, long long value) {
    throw std::invalid_argument("keel: " + std::string(type) + " value " + std::to_string(value) +
                                " has no name in its KEEL_ENUM");
}

}  // namespace keel::detail
