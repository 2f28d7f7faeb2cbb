#pragma once

#include <keel/detail/value_shape.hpp>
#include <keel/validation_error.hpp>

#include <charconv>
#include <concepts>
#include <cstdint>
#include <exception>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

/// Declares a struct's JSON shape, like nlohmann's `NLOHMANN_DEFINE_TYPE_INTRUSIVE`, with the
/// checks a request body deserves:
/// ```
/// struct transfer_in {
///     std::int64_t from_id;
///     std::int64_t to_id;
///     std::int64_t amount;
///     std::optional<std::string> memo;   // may be absent or null
///     KEEL_MODEL(transfer_in, from_id, to_id, amount, memo)
/// };
/// ```
/// - every failing field is reported, not just the first, with its path
///   (`["body", "items", "2", "price"]`), as a 422 when the struct is a `keel::body<T>`;
/// - types are strict, like pydantic's Strict types: an integer field takes only a JSON
///   integer that fits (never `1.5`, `true` or `"1"`), a string only a string, a bool only a
///   bool; `std::optional` fields may be missing or null, every other field is required;
/// - keys the struct does not name are ignored.
/// It defines `to_json` and `from_json`, so the type works everywhere nlohmann_json does, and
/// maps database rows by column name (`session.all<T>(...)`, `one<T>`, `first<T>`).
/// Place it inside the struct, after the members (like the nlohmann macro, up to 64 fields).
#define KEEL_MODEL(Type, ...)                                                              \
    using keel_model_tag = void;                                                           \
    friend void to_json(nlohmann::json& keel_json, const Type& keel_model) {               \
        keel_json = nlohmann::json::object();                                              \
        NLOHMANN_JSON_EXPAND(NLOHMANN_JSON_PASTE(KEEL_DETAIL_MODEL_WRITE, __VA_ARGS__))    \
    }                                                                                      \
    friend void keel_append_json(std::string& keel_out, const Type& keel_model) {          \
        char keel_separator = '{';                                                         \
        NLOHMANN_JSON_EXPAND(NLOHMANN_JSON_PASTE(KEEL_DETAIL_MODEL_APPEND, __VA_ARGS__))   \
        keel_out += keel_separator == '{' ? "{}" : "}";                                    \
    }                                                                                      \
    template <class KeelRow>                                                               \
    friend void keel_from_row(const KeelRow& keel_row, Type& keel_model) {                 \
        NLOHMANN_JSON_EXPAND(NLOHMANN_JSON_PASTE(KEEL_DETAIL_MODEL_COLUMN, __VA_ARGS__))   \
    }                                                                                      \
    friend void from_json(const nlohmann::json& keel_json, Type& keel_model) {             \
        ::keel::detail::model_reader keel_reader(keel_json);                               \
        if (keel_reader.is_object()) {                                                     \
            NLOHMANN_JSON_EXPAND(NLOHMANN_JSON_PASTE(KEEL_DETAIL_MODEL_READ, __VA_ARGS__)) \
        }                                                                                  \
        keel_reader.finish();                                                              \
    }

#define KEEL_DETAIL_MODEL_WRITE(field) ::keel::detail::write_field(keel_json, #field, keel_model.field);
#define KEEL_DETAIL_MODEL_APPEND(field) \
    ::keel::detail::append_member(keel_out, keel_separator, "\"" #field "\":", keel_model.field);
#define KEEL_DETAIL_MODEL_READ(field) keel_reader.read(#field, keel_model.field);
#define KEEL_DETAIL_MODEL_COLUMN(field) keel_row.read(#field, keel_model.field);

namespace keel::detail {

/// Thrown by a KEEL_MODEL's from_json: every field that failed, located relative to the value.
class model_errors : public std::exception {
public:
    explicit model_errors(std::vector<field_error> errors) : errors_(std::move(errors)) {}
    const std::vector<field_error>& errors() const noexcept { return errors_; }
    std::vector<field_error>& errors() noexcept { return errors_; }
    const char* what() const noexcept override { return "the JSON value does not fit the model"; }

private:
    std::vector<field_error> errors_;
};

template <class T>
concept keel_model = requires {
    typename T::keel_model_tag;
};

template <class T>
void write_field(nlohmann::json& out, const char* name, const T& value) {
    if constexpr (value_shape<T>::optional) {
        if (value) {
            write_field(out, name, *value);
        } else {
            out[name] = nullptr;
        }
    } else {
        out[name] = value;
    }
}

// Serialising a KEEL_MODEL straight into the response body, without building a json value
// first: what makes returning a model about as cheap as returning a string.
void append_json_string(std::string& out, std::string_view text);
void append_json_double(std::string& out, double value);

template <class T>
void append_json(std::string& out, const T& value) {
    if constexpr (value_shape<T>::optional) {
        if (value) {
            append_json(out, *value);
        } else {
            out += "null";
        }
    } else if constexpr (std::is_same_v<T, bool>) {
        out += value ? "true" : "false";
    } else if constexpr (std::is_integral_v<T>) {
        char digits[24];
        const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
        out.append(digits, end);
    } else if constexpr (std::is_floating_point_v<T>) {
        append_json_double(out, static_cast<double>(value));
    } else if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, std::string_view> ||
                         std::is_same_v<T, const char*> || std::is_same_v<T, char*>) {
        append_json_string(out, value);
    } else if constexpr (value_shape<T>::list) {
        out += '[';
        for (std::size_t i = 0; i < value.size(); ++i) {
            if (i) out += ',';
            append_json(out, value[i]);
        }
        out += ']';
    } else if constexpr (keel_model<T>) {
        keel_append_json(out, value);
    } else {
        out += nlohmann::json(value).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
}

template <class T>
void append_member(std::string& out, char& separator, std::string_view quoted_key, const T& value) {
    out += separator;
    separator = ',';
    out += quoted_key;
    append_json(out, value);
}

inline std::vector<std::string> child_loc(const std::vector<std::string>& loc, std::string name) {
    auto out = loc;
    out.push_back(std::move(name));
    return out;
}

// Reads `value` into `out` strictly; on failure appends to `errors` (located at `loc`) and
// leaves `out` as it was.
template <class T>
void read_value(const nlohmann::json& value, T& out, const std::vector<std::string>& loc,
                std::vector<field_error>& errors) {
    if constexpr (value_shape<T>::optional) {
        if (value.is_null()) {
            out.reset();
            return;
        }
        typename T::value_type inner{};
        const auto before = errors.size();
        read_value(value, inner, loc, errors);
        if (errors.size() == before) out = std::move(inner);
    } else if constexpr (std::is_same_v<T, bool>) {
        if (!value.is_boolean())
            return errors.push_back({loc, "value is not a valid boolean", "type_error.bool"});
        out = *value.get_ptr<const bool*>();  // get_ptr: far cheaper to compile than get<>
    } else if constexpr (std::is_integral_v<T>) {
        if (!value.is_number_integer()) {
            return errors.push_back({loc, "value is not a valid integer", "type_error.integer"});
        }
        const auto* as_unsigned = value.get_ptr<const std::uint64_t*>();
        const auto* as_signed = value.get_ptr<const std::int64_t*>();
        const bool fits = as_unsigned
                              ? *as_unsigned <= static_cast<std::uint64_t>(std::numeric_limits<T>::max())
                              : std::in_range<T>(*as_signed);
        if (!fits) {
            return errors.push_back(
                {loc, "value is out of range for a " + std::to_string(sizeof(T) * 8) + "-bit integer",
                 "value_error.number.not_in_range"});
        }
        out = as_unsigned ? static_cast<T>(*as_unsigned) : static_cast<T>(*as_signed);
    } else if constexpr (std::is_floating_point_v<T>) {
        if (!value.is_number())
            return errors.push_back({loc, "value is not a valid float", "type_error.float"});
        out = value.get<T>();
    } else if constexpr (std::is_same_v<T, std::string>) {
        if (!value.is_string()) return errors.push_back({loc, "str type expected", "type_error.str"});
        out = value.get_ref<const std::string&>();
    } else if constexpr (value_shape<T>::list) {
        if (!value.is_array()) return errors.push_back({loc, "value is not a valid list", "type_error.list"});
        T items;
        items.reserve(value.size());
        const auto before = errors.size();
        for (std::size_t i = 0; i < value.size(); ++i) {
            typename T::value_type item{};
            read_value(value[i], item, child_loc(loc, std::to_string(i)), errors);
            items.push_back(std::move(item));
        }
        if (errors.size() == before) out = std::move(items);
    } else if constexpr (keel_model<T>) {
        try {
            T parsed{};
            from_json(value, parsed);
            out = std::move(parsed);
        } catch (model_errors& nested) {
            for (auto& e : nested.errors()) {
                auto full = loc;
                full.insert(full.end(), e.loc.begin(), e.loc.end());
                errors.push_back({std::move(full), std::move(e.msg), std::move(e.type)});
            }
        }
    } else {
        try {
            value.get_to(out);
        } catch (const nlohmann::json::exception& e) {
            errors.push_back({loc, e.what(), "type_error"});
        }
    }
}

/// The reading half of KEEL_MODEL: reads each named field, collecting every failure.
class model_reader {
public:
    explicit model_reader(const nlohmann::json& json) : json_(json) {
        if (!json_.is_object()) errors_.push_back({{}, "value is not a valid dict", "type_error.dict"});
    }

    bool is_object() const noexcept { return json_.is_object(); }

    template <class T>
    void read(const char* name, T& out) {
        const auto it = json_.find(name);
        if (it == json_.end()) {
            if constexpr (value_shape<T>::optional) {
                out.reset();
            } else {
                errors_.push_back({{name}, "field required", "value_error.missing"});
            }
            return;
        }
        read_value(*it, out, {name}, errors_);
    }

    void finish() {
        if (!errors_.empty()) throw model_errors(std::move(errors_));
    }

private:
    const nlohmann::json& json_;
    std::vector<field_error> errors_;
};

}  // namespace keel::detail
