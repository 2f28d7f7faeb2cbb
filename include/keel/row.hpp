#pragma once

#include <keel/codec.hpp>
#include <keel/detail/type_name.hpp>
#include <keel/detail/value_shape.hpp>
#include <keel/model.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace keel {

namespace detail {
struct result_data;  // a libpq PGresult; src/db/result.cpp
std::size_t result_size(const result_data& r) noexcept;
std::size_t result_affected(const result_data& r) noexcept;
// The errors of a result read the wrong way, thrown out of line (their messages are built once).
[[noreturn]] void throw_row_index(std::size_t index, std::size_t size);
[[noreturn]] void throw_row_count(std::size_t size);  // "expected exactly one row"
// The text of a field, or nullopt for NULL; throws std::out_of_range for an unknown column.
std::optional<std::string_view> result_field(const result_data& r, std::size_t row, std::string_view column);
std::optional<std::string_view> result_field(const result_data& r, std::size_t row, std::size_t column);
// A column as named in errors: by name, or "#2" by index; the text is built only to throw.
struct column_ref {
    std::string_view name;  // empty: by index
    std::size_t index = 0;
    std::string text() const;
};
// "keel: column created_at ('2026-13-01 …') does not map to a std::chrono::sys_time<…>: why".
// `text` is nullopt for NULL.
[[noreturn]] void throw_column_error(std::string_view column, std::optional<std::string_view> text,
                                     std::string_view type, std::string_view why);
// A json or jsonb column's text, parsed; nullopt with `why` when it is not JSON.
std::optional<json_document> parse_json_column(std::string_view text, parse_failure& why);
// The first of a model's failures, as one line: "at amount: value is not a valid integer".
std::string describe_model_errors(const model_errors& errors);
}  // namespace detail

/// One row of a result, read by column name (or index) into C++ types: every type with a
/// keel::codec<T>, a std::optional of one for a nullable column, and a std::vector of them for
/// a one-dimensional array (of std::optional when it may hold NULLs).
class row {
public:
    row(std::shared_ptr<const detail::result_data> data, std::size_t index) noexcept
        : data_(std::move(data)), index_(index) {}

    /// The column's value as T; a NULL is an error unless T is a std::optional.
    template <class T, class Column>
    T get(Column column) const {
        const auto text = detail::result_field(*data_, index_, column);
        const auto where = where_of(column);
        if constexpr (detail::is_std_optional<T>::value) {
            if (!text) return std::nullopt;
            return T(convert<typename T::value_type>(where, *text));
        } else {
            if (!text)
                detail::throw_column_error(where.text(), std::nullopt, detail::type_name<T>(),
                                           "the column is NULL: read it as a std::optional");
            return convert<T>(where, *text);
        }
    }
    /// Reads a column into `out` (what KEEL_MODEL's row mapping calls).
    template <class T>
    void read(const char* column, T& out) const {
        out = get<T>(std::string_view(column));
    }
    bool is_null(std::string_view column) const { return !detail::result_field(*data_, index_, column); }

private:
    static detail::column_ref where_of(std::string_view name) noexcept { return {name, 0}; }
    static detail::column_ref where_of(std::size_t index) noexcept { return {{}, index}; }

    template <class T>
    static T convert(const detail::column_ref& column, std::string_view text) {
        if constexpr (detail::value_shape<T>::list) {
            return convert_array<T>(column, text);
        } else if constexpr (detail::keel_model<T>) {
            return convert_model<T>(column, text);
        } else {
            return convert_value<T>(column, text);
        }
    }

    // A json or jsonb column into a KEEL_MODEL struct, by the model's own strict rules.
    template <class T>
    static T convert_model(const detail::column_ref& column, std::string_view text) {
        parse_failure why;
        auto document = detail::parse_json_column(text, why);
        if (!document) detail::throw_column_error(column.text(), text, detail::type_name<T>(), why.msg);
        T out{};
        try {
            from_json(document->value(), out);
        } catch (const detail::model_errors& e) {
            detail::throw_column_error(column.text(), text, detail::type_name<T>(),
                                       detail::describe_model_errors(e));
        }
        return out;
    }

    // A one-dimensional array into a std::vector; NULL elements only into a vector of optionals.
    template <class T>
    static T convert_array(const detail::column_ref& column, std::string_view text) {
        using element = typename T::value_type;
        static_assert(!detail::value_shape<typename detail::value_shape<element>::element>::list,
                      "keel: arrays are read one-dimensional: a std::vector of std::vector is not mapped");
        parse_failure why;
        auto elements = detail::split_array(text, why);
        if (!elements) detail::throw_column_error(column.text(), text, detail::type_name<T>(), why.msg);
        T out;
        out.reserve(elements->size());
        for (std::size_t i = 0; i < elements->size(); ++i) {
            const auto& item = (*elements)[i];
            // The element's name (PostgreSQL counts from 1), built only to throw.
            const auto name = [&] { return column.text() + "[" + std::to_string(i + 1) + "]"; };
            if constexpr (detail::is_std_optional<element>::value) {
                if (!item) {
                    out.emplace_back();
                    continue;
                }
                out.emplace_back(convert_element<typename element::value_type>(name, *item));
            } else {
                if (!item)
                    detail::throw_column_error(name(), std::nullopt, detail::type_name<T>(),
                                               "the element is NULL: read the array as a std::vector of "
                                               "std::optional");
                out.push_back(convert_element<element>(name, *item));
            }
        }
        return out;
    }

    template <class T, class Name>
    static T convert_element(const Name& name, std::string_view text) {
        parse_failure why;
        auto value = detail::parse_column<T>(text, why);
        if (!value) detail::throw_column_error(name(), text, detail::type_name<T>(), why.msg);
        return std::move(*value);
    }

    template <class T>
    static T convert_value(const detail::column_ref& column, std::string_view text) {
        static_assert(
            mapped<T>,
            "keel: no codec<T> for this column type; read a type keel maps, or specialise keel::codec<T>");
        return convert_element<T>([&] { return column.text(); }, text);
    }

    std::shared_ptr<const detail::result_data> data_;
    std::size_t index_;
};

/// The rows a statement returned.
class result {
public:
    explicit result(std::shared_ptr<const detail::result_data> data) noexcept : data_(std::move(data)) {}

    std::size_t size() const noexcept { return detail::result_size(*data_); }
    bool empty() const noexcept { return size() == 0; }
    /// Rows changed by an INSERT, UPDATE or DELETE.
    std::size_t affected_rows() const noexcept { return detail::result_affected(*data_); }
    row operator[](std::size_t i) const {
        if (i >= size()) detail::throw_row_index(i, size());
        return row(data_, i);
    }

private:
    std::shared_ptr<const detail::result_data> data_;
};

namespace detail {
// A row mapped to T: a KEEL_MODEL by column name, or a one-column result read as a scalar.
template <class T>
T from_row(const row& r) {
    if constexpr (requires(T & t) { keel_from_row(r, t); }) {
        T value{};
        keel_from_row(r, value);
        return value;
    } else {
        return r.get<T>(std::size_t{0});
    }
}
// What a session's typed calls (all, one, first, scalar) make of a statement's result.
template <class T>
std::vector<T> all_rows(const result& r) {
    std::vector<T> out;
    out.reserve(r.size());
    for (std::size_t i = 0; i < r.size(); ++i) out.push_back(from_row<T>(r[i]));
    return out;
}
template <class T>
T one_row(const result& r) {
    if (r.size() != 1) throw_row_count(r.size());
    return from_row<T>(r[0]);
}
template <class T>
std::optional<T> first_row(const result& r) {
    if (r.empty()) return std::nullopt;
    return from_row<T>(r[0]);
}
template <class T>
T scalar_of_one_row(const result& r) {
    if (r.size() != 1) throw_row_count(r.size());
    return r[0].template get<T>(std::size_t{0});
}
}  // namespace detail

}  // namespace keel
