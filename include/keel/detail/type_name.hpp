#pragma once

#include <string_view>

namespace keel::detail {

// The text after `marker` in a __PRETTY_FUNCTION__, up to the next ';' or ']'.
constexpr std::string_view pretty_argument(std::string_view pretty, std::string_view marker) {
    const auto start = pretty.find(marker) + marker.size();
    return pretty.substr(start, pretty.find_first_of(";]", start) - start);
}

// Readable names for types and providers in start-up errors ("bank::mailer", "get_session"),
// taken from the compiler's own spelling of a function signature.
template <class T>
constexpr std::string_view type_name() {
    return pretty_argument(__PRETTY_FUNCTION__, "T = ");  // "... type_name() [with T = bank::mailer; ...]"
}

template <auto F>
constexpr std::string_view value_name() {
    return pretty_argument(__PRETTY_FUNCTION__,
                           "F = ");  // "... value_name() [with auto F = get_session; ...]"
}

}  // namespace keel::detail
