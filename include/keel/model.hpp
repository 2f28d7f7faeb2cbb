#pragma once

#include <keel/codec.hpp>
#include <keel/detail/field_rules.hpp>
#include <keel/detail/for_each_macro.hpp>
#include <keel/detail/json_node.hpp>
#include <keel/detail/value_shape.hpp>
#include <keel/validation_error.hpp>

#include <charconv>
#include <concepts>
#include <cstdint>
#include <exception>
#include <limits>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <stdexcept>
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
///     KEEL_MODEL(transfer_in, from_id, to_id, (amount, gt(0)), (memo, max_length(200)))
/// };
/// ```
/// A field is named alone, or in parentheses with its constraints (<keel/constraints.hpp>):
/// checked with the other fields' failures, and shown in the OpenAPI document.
/// - every failing field is reported, not just the first, with its path
///   (`["body", "items", "2", "price"]`), as a 422 when the struct is a `keel::body<T>`;
/// - types are strict, like pydantic's Strict types: an integer field takes only a JSON
///   integer that fits (never `1.5`, `true` or `"1"`), a string only a string, a bool only a
///   bool; `std::optional` fields may be missing or null, every other field is required;
/// - keys the struct does not name are ignored.
/// It defines `to_json` and `from_json`, so the type works everywhere nlohmann_json does, and
/// maps database rows by column name (`session.all<T>(...)`, `one<T>`, `first<T>`). Neither
/// needs <nlohmann/json.hpp>: keel reads and writes models without nlohmann's templates. A field
/// of a type keel does not know (one with nlohmann's own from_json/to_json) goes through
/// nlohmann_json, and the file that uses it includes <nlohmann/json.hpp>.
/// Place it inside the struct, after the members (like the nlohmann macro, up to 64 fields).
#define KEEL_MODEL(Type, ...)                                                           \
    using keel_model_tag = void;                                                        \
    using keel_model_self = Type;                                                       \
    friend void to_json(nlohmann::json& keel_json, const Type& keel_model) {            \
        std::string keel_text;                                                          \
        keel_append_json(keel_text, keel_model);                                        \
        ::keel::detail::assign_json_text(keel_json, keel_text);                         \
    }                                                                                   \
    friend void keel_append_json(std::string& keel_out, const Type& keel_model) {       \
        char keel_separator = '{';                                                      \
        KEEL_DETAIL_FOR_EACH(KEEL_DETAIL_MODEL_APPEND, __VA_ARGS__)                     \
        keel_out += keel_separator == '{' ? "{}" : "}";                                 \
    }                                                                                   \
    template <class KeelSchema>                                                         \
    friend void keel_describe(KeelSchema& keel_schema, const Type*) {                   \
        KEEL_DETAIL_FOR_EACH(KEEL_DETAIL_MODEL_DESCRIBE, __VA_ARGS__)                   \
    }                                                                                   \
    template <class KeelRow>                                                            \
    friend void keel_from_row(const KeelRow& keel_row, Type& keel_model) {              \
        KEEL_DETAIL_FOR_EACH(KEEL_DETAIL_MODEL_COLUMN, __VA_ARGS__)                     \
    }                                                                                   \
    friend void from_json(const nlohmann::json& keel_json, Type& keel_model) {          \
        ::keel::detail::model_reader keel_reader{::keel::detail::json_node(keel_json)}; \
        if (keel_reader.is_object()) {                                                  \
            KEEL_DETAIL_FOR_EACH(KEEL_DETAIL_MODEL_READ, __VA_ARGS__)                   \
        }                                                                               \
        keel_reader.finish();                                                           \
    }

// A field is `name` or `(name, constraints...)`: KEEL_DETAIL_IS_PAREN tells which (1 or 0).
#define KEEL_DETAIL_CAT(a, b) KEEL_DETAIL_CAT_(a, b)
#define KEEL_DETAIL_CAT_(a, b) a##b
#define KEEL_DETAIL_STRING(x) KEEL_DETAIL_STRING_(x)
#define KEEL_DETAIL_STRING_(x) #x
#define KEEL_DETAIL_SECOND(a, b, ...) b
#define KEEL_DETAIL_SECOND_OF(...) KEEL_DETAIL_SECOND(__VA_ARGS__)  // split after the probe expands
#define KEEL_DETAIL_IS_PAREN(x) KEEL_DETAIL_SECOND_OF(KEEL_DETAIL_IS_PAREN_PROBE x, 0, )
#define KEEL_DETAIL_IS_PAREN_PROBE(...) ~, 1
#define KEEL_DETAIL_FIRST_OF(first, ...) first
#define KEEL_DETAIL_FIELD_NAME(field) \
    KEEL_DETAIL_CAT(KEEL_DETAIL_FIELD_NAME_, KEEL_DETAIL_IS_PAREN(field))(field)
#define KEEL_DETAIL_FIELD_NAME_0(field) field
#define KEEL_DETAIL_FIELD_NAME_1(field) KEEL_DETAIL_FIRST_OF field

#define KEEL_DETAIL_MODEL_APPEND(field)                                                         \
    ::keel::detail::append_member(keel_out, keel_separator,                                     \
                                  "\"" KEEL_DETAIL_STRING(KEEL_DETAIL_FIELD_NAME(field)) "\":", \
                                  keel_model.KEEL_DETAIL_FIELD_NAME(field));
#define KEEL_DETAIL_MODEL_COLUMN(field)                              \
    keel_row.read(KEEL_DETAIL_STRING(KEEL_DETAIL_FIELD_NAME(field)), \
                  keel_model.KEEL_DETAIL_FIELD_NAME(field));

#define KEEL_DETAIL_MODEL_READ(field) \
    KEEL_DETAIL_CAT(KEEL_DETAIL_MODEL_READ_, KEEL_DETAIL_IS_PAREN(field))(field)
#define KEEL_DETAIL_MODEL_READ_0(field) keel_reader.read(#field, keel_model.field);
#define KEEL_DETAIL_MODEL_READ_1(field) KEEL_DETAIL_MODEL_READ_CHECKED field
#define KEEL_DETAIL_MODEL_READ_CHECKED(field, ...)                       \
    {                                                                    \
        using namespace ::keel::constraints;                             \
        keel_reader.read_checked<__VA_ARGS__>(#field, keel_model.field); \
    }

#define KEEL_DETAIL_MODEL_DESCRIBE(field) \
    KEEL_DETAIL_CAT(KEEL_DETAIL_MODEL_DESCRIBE_, KEEL_DETAIL_IS_PAREN(field))(field)
#define KEEL_DETAIL_MODEL_DESCRIBE_0(field) \
    keel_schema.template property_of<decltype(keel_model_self::field)>(#field);
#define KEEL_DETAIL_MODEL_DESCRIBE_1(field) KEEL_DETAIL_MODEL_DESCRIBE_CHECKED field
#define KEEL_DETAIL_MODEL_DESCRIBE_CHECKED(field, ...)                                           \
    {                                                                                            \
        using namespace ::keel::constraints;                                                     \
        keel_schema.template property_of<decltype(keel_model_self::field), __VA_ARGS__>(#field); \
    }

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

// Fills `out` with the JSON `text` keel wrote (a model's to_json).
void assign_json_text(nlohmann::json& out, const std::string& text);

// A type keel does not know is read and written by nlohmann_json. Json is a template parameter
// only so that nlohmann's full header is needed where such a type is used, not by every file.
template <class Json>
concept complete_json = requires {
    sizeof(Json);
};

template <class Json, class T>
concept json_serialisable = complete_json<Json> && std::is_constructible_v<Json, const T&>;

template <class T, class Json = nlohmann::json>
void append_foreign_json(std::string& out, const T& value) {
    static_assert(json_serialisable<Json, T>,
                  "keel: a handler must return keel::response, void, or a value nlohmann_json can serialise: "
                  "a KEEL_MODEL struct, a number, bool, string or std::vector/std::optional of those, or a "
                  "type with nlohmann's to_json (then #include <nlohmann/json.hpp>)");
    out += Json(value).dump(-1, ' ', false, Json::error_handler_t::replace);
}

// A foreign type's from_json refused the value (nlohmann's exception id, or 0): reported without
// the exception's text, which names the library's internals, not the request's problem.
void add_foreign_failure(const std::vector<std::string>& loc, int json_exception_id,
                         std::vector<field_error>& errors);

template <class T, class Json = nlohmann::json>
void read_foreign_json(const Json& value, T& out, const std::vector<std::string>& loc,
                       std::vector<field_error>& errors) {
    static_assert(complete_json<Json>,
                  "keel: this type is read by nlohmann_json's from_json: #include <nlohmann/json.hpp> "
                  "(or declare it with KEEL_MODEL)");
    try {
        value.get_to(out);
    } catch (const invalid_value& e) {
        errors.push_back({loc, e.msg(), e.type()});
    } catch (const typename Json::exception& e) {
        add_foreign_failure(loc, e.id, errors);
    } catch (const std::invalid_argument&) {  // std::stoi's, say
        add_foreign_failure(loc, 0, errors);
    } catch (const std::out_of_range&) {
        add_foreign_failure(loc, 0, errors);
    }
}

// Serialising a KEEL_MODEL straight into the response body, without building a json value
// first: what makes returning a model about as cheap as returning a string.
void append_json_string(std::string& out, std::string_view text);

template <class T>
void append_json(std::string& out, const T& value) {
    if constexpr (value_shape<T>::optional) {
        if (value) {
            append_json(out, *value);
        } else {
            out += "null";
        }
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
    } else if constexpr (mapped<T> && has_write_json<T>) {
        codec<T>::write_json(out, value);
    } else if constexpr (mapped<T>) {
        std::string text;
        codec<T>::format(text, value);
        append_json_string(out, text);
    } else if constexpr (keel_model<T>) {
        keel_append_json(out, value);
    } else {
        append_foreign_json(out, value);
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

// The strict readers behind read_value, compiled once: each returns the value, or records why
// not (located at `loc`) and returns nothing.
std::optional<bool> read_json_bool(json_node value, const std::vector<std::string>& loc,
                                   std::vector<field_error>& errors);
std::optional<std::int64_t> read_json_signed(json_node value, std::int64_t min, std::int64_t max, int bits,
                                             const std::vector<std::string>& loc,
                                             std::vector<field_error>& errors);
std::optional<std::uint64_t> read_json_unsigned(json_node value, std::uint64_t max, int bits,
                                                const std::vector<std::string>& loc,
                                                std::vector<field_error>& errors);
std::optional<double> read_json_number(json_node value, const std::vector<std::string>& loc,
                                       std::vector<field_error>& errors);
const std::string* read_json_string(json_node value, const std::vector<std::string>& loc,
                                    std::vector<field_error>& errors);
bool check_json_array(json_node value, const std::vector<std::string>& loc, std::vector<field_error>& errors);
// A nested model's failures, moved into `errors` located under `loc`.
void add_nested_errors(model_errors& nested, const std::vector<std::string>& loc,
                       std::vector<field_error>& errors);
void add_missing(std::vector<std::string> loc, std::vector<field_error>& errors);
void add_parse_failure(const std::vector<std::string>& loc, parse_failure&& why,
                       std::vector<field_error>& errors);

// Reads `value` into `out` strictly; on failure appends to `errors` (located at `loc`) and
// leaves `out` as it was.
template <class T>
void read_value(json_node value, T& out, const std::vector<std::string>& loc,
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
        if (auto v = read_json_bool(value, loc, errors)) out = *v;
    } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
        constexpr auto min = std::numeric_limits<T>::min(), max = std::numeric_limits<T>::max();
        if (auto v = read_json_signed(value, min, max, sizeof(T) * 8, loc, errors)) out = static_cast<T>(*v);
    } else if constexpr (std::is_integral_v<T>) {
        constexpr auto max = std::numeric_limits<T>::max();
        if (auto v = read_json_unsigned(value, max, sizeof(T) * 8, loc, errors)) out = static_cast<T>(*v);
    } else if constexpr (std::is_floating_point_v<T>) {
        if (auto v = read_json_number(value, loc, errors)) out = static_cast<T>(*v);
    } else if constexpr (std::is_same_v<T, std::string>) {
        if (const auto* v = read_json_string(value, loc, errors)) out = *v;
    } else if constexpr (value_shape<T>::list) {
        if (!check_json_array(value, loc, errors)) return;
        T items;
        items.reserve(value.size());
        const auto before = errors.size();
        for (std::size_t i = 0; i < value.size(); ++i) {
            typename T::value_type item{};
            read_value(value[i], item, child_loc(loc, std::to_string(i)), errors);
            items.push_back(std::move(item));
        }
        if (errors.size() == before) out = std::move(items);
    } else if constexpr (std::is_same_v<T, nlohmann::json>) {  // any JSON value, as it is (<keel/json.hpp>)
        out = value.json();
    } else if constexpr (std::is_same_v<T, std::string_view>) {
        static_assert(!std::is_same_v<T, std::string_view>,
                      "keel: a std::string_view read from JSON would view a document that is gone once the "
                      "request is bound: use std::string");
    } else if constexpr (mapped<T>) {  // a type of its own (a uuid, a time): a JSON string
        const auto* text = read_json_string(value, loc, errors);
        if (!text) return;
        parse_failure why;
        if (auto parsed = codec<T>::parse(*text, why)) {
            out = std::move(*parsed);
        } else {
            add_parse_failure(loc, std::move(why), errors);
        }
    } else if constexpr (keel_model<T>) {
        try {
            T parsed{};
            from_json(value.json(), parsed);
            out = std::move(parsed);
        } catch (model_errors& nested) {
            add_nested_errors(nested, loc, errors);
        }
    } else {
        read_foreign_json(value.json(), out, loc, errors);
    }
}

/// The reading half of KEEL_MODEL: reads each named field, collecting every failure.
class model_reader {
public:
    explicit model_reader(json_node json);

    bool is_object() const noexcept { return json_.is_object(); }

    template <class T>
    void read(const char* name, T& out) {
        const auto member = json_.member(name);
        if (!member) {
            if constexpr (value_shape<T>::optional) {
                out.reset();
            } else {
                add_missing({name}, errors_);
            }
            return;
        }
        read_value(*member, out, {name}, errors_);
    }

    /// read(), then the field's constraints X when it was read.
    template <auto... X, class T>
    void read_checked(const char* name, T& out) {
        const auto member = json_.member(name);
        if (!member) {
            read(name, out);  // missing: reported, or no value, as read() has it
            return;
        }
        const std::vector<std::string> loc{name};
        const auto before = errors_.size();
        read_value(*member, out, loc, errors_);
        if (errors_.size() == before) check_rules<T, X...>(out, loc, errors_);
    }

    void finish();

private:
    json_node json_;
    std::vector<field_error> errors_;
};

}  // namespace keel::detail
