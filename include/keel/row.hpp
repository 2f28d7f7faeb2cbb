#pragma once

#include <keel/codec.hpp>
#include <keel/detail/type_name.hpp>
#include <keel/detail/value_shape.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

namespace keel {

namespace detail {
struct result_data;  // a libpq PGresult; src/db/result.cpp
std::size_t result_size(const result_data& r) noexcept;
std::size_t result_affected(const result_data& r) noexcept;
// The text of a field, or nullopt for NULL; throws std::out_of_range for an unknown column.
std::optional<std::string_view> result_field(const result_data& r, std::size_t row, std::string_view column);
std::optional<std::string_view> result_field(const result_data& r, std::size_t row, std::size_t column);
// "keel: column created_at ('2026-13-01 …') does not map to a std::chrono::sys_time<…>: why".
// `text` is nullopt for NULL.
[[noreturn]] void throw_column_error(std::string_view column, std::optional<std::string_view> text,
                                     std::string_view type, std::string_view why);
}  // namespace detail

/// One row of a result, read by column name (or index) into C++ types: integers, floating
/// point, bool, std::string, and std::optional of those for nullable columns.
class row {
public:
    row(std::shared_ptr<const detail::result_data> data, std::size_t index) noexcept
        : data_(std::move(data)), index_(index) {}

    /// The column's value as T; a NULL is an error unless T is a std::optional.
    template <class T, class Column>
    T get(Column column) const {
        const auto text = detail::result_field(*data_, index_, column);
        if constexpr (detail::is_std_optional<T>::value) {
            if (!text) return std::nullopt;
            return T(convert<typename T::value_type>(column_name(column), *text));
        } else {
            if (!text)
                detail::throw_column_error(column_name(column), std::nullopt, detail::type_name<T>(),
                                           "the column is NULL: read it as a std::optional");
            return convert<T>(column_name(column), *text);
        }
    }
    /// Reads a column into `out` (what KEEL_MODEL's row mapping calls).
    template <class T>
    void read(const char* column, T& out) const {
        out = get<T>(std::string_view(column));
    }
    bool is_null(std::string_view column) const { return !detail::result_field(*data_, index_, column); }

private:
    static std::string column_name(std::string_view c) { return std::string(c); }
    static std::string column_name(std::size_t c) { return "#" + std::to_string(c); }

    template <class T>
    static T convert(const std::string& column, std::string_view text) {
        static_assert(
            mapped<T>,
            "keel: no codec<T> for this column type; read a type keel maps, or specialise keel::codec<T>");
        parse_failure why;
        auto value = detail::parse_column<T>(text, why);
        if (!value) detail::throw_column_error(column, text, detail::type_name<T>(), why.msg);
        return std::move(*value);
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
        if (i >= size())
            throw std::out_of_range("keel::result: row " + std::to_string(i) + " of " +
                                    std::to_string(size()));
        return row(data_, i);
    }

private:
    std::shared_ptr<const detail::result_data> data_;
};

}  // namespace keel
