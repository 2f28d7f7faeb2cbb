// PostgreSQL's array text form, one-dimensional: https://www.postgresql.org/docs/15/arrays.html
// ("Array Value Input" and "Array Input and Output Syntax").
#include <keel/codec.hpp>

namespace keel::detail {

void append_array_element(std::string& out, const std::optional<std::string>& element) {
    if (!element) {
        out += "NULL";
        return;
    }
    out += '"';
    for (const char c : *element) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    out += '"';
}

std::optional<std::vector<std::optional<std::string>>> split_array(std::string_view text,
                                                                   parse_failure& why) {
    const auto refuse = [&why](const char* msg) {
        why = {msg, "value_error.array"};
        return std::nullopt;
    };
    if (!text.empty() && text.front() == '[')
        return refuse("the array does not start at index 1 (its text has bounds): not mapped");
    if (text.size() < 2 || text.front() != '{' || text.back() != '}') return refuse("not an array");
    std::vector<std::optional<std::string>> elements;
    const auto body = text.substr(1, text.size() - 2);
    if (body.empty()) return elements;
    std::size_t at = 0;
    while (true) {
        if (at < body.size() && body[at] == '{')
            return refuse("a multi-dimensional array: read it one dimension at a time (unnest) or as text");
        if (at < body.size() && body[at] == '"') {
            std::string element;
            ++at;
            while (at < body.size() && body[at] != '"') {
                if (body[at] == '\\' && at + 1 < body.size()) ++at;
                element += body[at++];
            }
            if (at == body.size()) return refuse("an unterminated quoted array element");
            ++at;  // the closing quote
            elements.emplace_back(std::move(element));
        } else {
            const auto end = body.find(',', at);
            const auto element = body.substr(at, end == std::string_view::npos ? body.size() - at : end - at);
            if (element.empty()) return refuse("an empty unquoted array element");
            if (element == "NULL") {
                elements.emplace_back(std::nullopt);
            } else {
                elements.emplace_back(std::string(element));
            }
            at += element.size();
        }
        if (at == body.size()) return elements;
        if (body[at] != ',') return refuse("array elements are not separated by ','");
        ++at;
    }
}

}  // namespace keel::detail
