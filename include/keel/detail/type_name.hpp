#pragma once

#include <string_view>

namespace keel::detail {

// Readable names for types and providers in start-up errors ("bank::mailer", "get_session"),
// taken from the compiler's own spelling of a function signature.
template <class T>
constexpr std::string_view type_name() {
    std::string_view p = __PRETTY_FUNCTION__;  // "... type_name() [with T = bank::mailer; ...]"
    const auto start = p.find("T = ") + 4;
    const auto end = p.find_first_of(";]", start);
    return p.substr(start, end - start);
}

template <auto F>
constexpr std::string_view value_name() {
    std::string_view p = __PRETTY_FUNCTION__;  // "... value_name() [with auto F = get_session; ...]"
    const auto start = p.find("F = ") + 4;
    const auto end = p.find_first_of(";]", start);
    return p.substr(start, end - start);
}

}  // namespace keel::detail
