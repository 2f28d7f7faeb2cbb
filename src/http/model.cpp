#include <keel/model.hpp>

namespace keel::detail {

void append_json_string(std::string& out, std::string_view text) {
    for (unsigned char c : text) {
        if (c >= 0x80) {
            // Non-ASCII: let nlohmann validate the UTF-8 (and replace what is invalid).
            out += nlohmann::json(std::string(text))
                       .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
            return;
        }
    }
    out.reserve(out.size() + text.size() + 2);
    out += '"';
    for (unsigned char c : text) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\f':
                out += "\\f";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (c < 0x20) {
                    static constexpr char hex[] = "0123456789abcdef";
                    out += "\\u00";
                    out += hex[c >> 4];
                    out += hex[c & 0xf];
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    out += '"';
}

void append_json_double(std::string& out, double value) {
    out += nlohmann::json(value).dump();
}

}  // namespace keel::detail
