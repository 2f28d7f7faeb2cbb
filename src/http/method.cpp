#include <keel/method.hpp>

namespace keel {

std::string_view to_string(method m) noexcept {
    switch (m) {
        case method::get:
            return "GET";
        case method::head:
            return "HEAD";
        case method::post:
            return "POST";
        case method::put:
            return "PUT";
        case method::patch:
            return "PATCH";
        case method::delete_:
            return "DELETE";
        case method::options:
            return "OPTIONS";
        case method::other:
            return "OTHER";
    }
    return "OTHER";
}

method parse_method(std::string_view token) noexcept {
    if (token == "GET") return method::get;
    if (token == "POST") return method::post;
    if (token == "HEAD") return method::head;
    if (token == "PUT") return method::put;
    if (token == "PATCH") return method::patch;
    if (token == "DELETE") return method::delete_;
    if (token == "OPTIONS") return method::options;
    return method::other;
}

}  // namespace keel
