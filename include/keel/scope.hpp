#pragma once

namespace keel {

/// How long a provided value lives, and so who shares it.
enum class scope {
    app,        ///< made once (at start-up or first use), shared by every request, destroyed at shut-down
    request,    ///< made at most once per request, shared by every dependant in it, torn down at its end
    transient,  ///< made fresh at every injection
};

/// "app", "request" or "transient".
constexpr const char* to_string(scope s) noexcept {
    switch (s) {
        case scope::app:
            return "app";
        case scope::request:
            return "request";
        case scope::transient:
            return "transient";
    }
    return "?";
}

}  // namespace keel
