#include <keel/model.hpp>

#include <nlohmann/json.hpp>

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

namespace {

void add(std::vector<field_error>& errors, const std::vector<std::string>& loc, std::string msg,
         const char* type) {
    errors.push_back({loc, std::move(msg), type});
}

std::string out_of_range(int bits) {
    return "value is out of range for a " + std::to_string(bits) + "-bit integer";
}

}  // namespace

void add_parse_failure(const std::vector<std::string>& loc, parse_failure&& why,
                       std::vector<field_error>& errors) {
    errors.push_back({loc, std::move(why.msg), std::move(why.type)});
}

void add_foreign_failure(const std::vector<std::string>& loc, int json_exception_id,
                         std::vector<field_error>& errors) {
    if (json_exception_id >= 300 &&
        json_exception_id < 400) {  // nlohmann's type_error: a JSON value of another type
        add(errors, loc, "value is not of the expected type", "type_error");
    } else {
        add(errors, loc, "value is not valid", "value_error");
    }
}

void add_missing(std::vector<std::string> loc, std::vector<field_error>& errors) {
    errors.push_back({std::move(loc), "field required", "value_error.missing"});
}

std::optional<bool> read_json_bool(json_node value, const std::vector<std::string>& loc,
                                   std::vector<field_error>& errors) {
    if (value.is_boolean()) return value.boolean();
    add(errors, loc, "value is not a valid boolean", "type_error.bool");
    return std::nullopt;
}

std::optional<std::int64_t> read_json_signed(json_node value, std::int64_t min, std::int64_t max, int bits,
                                             const std::vector<std::string>& loc,
                                             std::vector<field_error>& errors) {
    if (!value.is_integer()) {
        add(errors, loc, "value is not a valid integer", "type_error.integer");
        return std::nullopt;
    }
    const bool fits = value.is_unsigned_integer()
                          ? value.unsigned_integer() <= static_cast<std::uint64_t>(max)
                          : value.signed_integer() >= min && value.signed_integer() <= max;
    if (!fits) {
        add(errors, loc, out_of_range(bits), "value_error.number.not_in_range");
        return std::nullopt;
    }
    return value.is_unsigned_integer() ? static_cast<std::int64_t>(value.unsigned_integer())
                                       : value.signed_integer();
}

std::optional<std::uint64_t> read_json_unsigned(json_node value, std::uint64_t max, int bits,
                                                const std::vector<std::string>& loc,
                                                std::vector<field_error>& errors) {
    if (!value.is_integer()) {
        add(errors, loc, "value is not a valid integer", "type_error.integer");
        return std::nullopt;
    }
    const bool fits =
        value.is_unsigned_integer() ? value.unsigned_integer() <= max : value.signed_integer() >= 0;
    if (!fits) {
        add(errors, loc, out_of_range(bits), "value_error.number.not_in_range");
        return std::nullopt;
    }
    return value.is_unsigned_integer() ? value.unsigned_integer()
                                       : static_cast<std::uint64_t>(value.signed_integer());
}

std::optional<double> read_json_number(json_node value, const std::vector<std::string>& loc,
                                       std::vector<field_error>& errors) {
    if (value.is_number()) return value.number();
    add(errors, loc, "value is not a valid float", "type_error.float");
    return std::nullopt;
}

const std::string* read_json_string(json_node value, const std::vector<std::string>& loc,
                                    std::vector<field_error>& errors) {
    if (value.is_string()) return &value.string();
    add(errors, loc, "str type expected", "type_error.str");
    return nullptr;
}

bool check_json_array(json_node value, const std::vector<std::string>& loc,
                      std::vector<field_error>& errors) {
    if (value.is_array()) return true;
    add(errors, loc, "value is not a valid list", "type_error.list");
    return false;
}

void add_nested_errors(model_errors& nested, const std::vector<std::string>& loc,
                       std::vector<field_error>& errors) {
    for (auto& e : nested.errors()) {
        auto full = loc;
        full.insert(full.end(), e.loc.begin(), e.loc.end());
        errors.push_back({std::move(full), std::move(e.msg), std::move(e.type)});
    }
}

model_reader::model_reader(json_node json) : json_(json) {
    if (!json_.is_object()) errors_.push_back({{}, "value is not a valid dict", "type_error.dict"});
}

void model_reader::finish() {
    if (!errors_.empty()) throw model_errors(std::move(errors_));
}

void assign_json_text(nlohmann::json& out, const std::string& text) {
    out = nlohmann::json::parse(text);
}

}  // namespace keel::detail
