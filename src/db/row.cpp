// The libpq result behind keel::result and keel::row (include/keel/row.hpp).

#include <keel/row.hpp>

#include "db/result_data.hpp"

#include <charconv>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace keel {

namespace detail {

std::size_t result_size(const result_data& r) noexcept {
    return static_cast<std::size_t>(PQntuples(r.rows.get()));
}

std::string column_ref::text() const {
    return name.empty() ? "#" + std::to_string(index) : std::string(name);
}

void throw_row_index(std::size_t index, std::size_t size) {
    throw std::out_of_range("keel::result: row " + std::to_string(index) + " of " + std::to_string(size));
}

void throw_row_count(std::size_t size) {
    throw std::logic_error("keel: expected exactly one row, got " + std::to_string(size));
}

std::size_t result_affected(const result_data& r) noexcept {
    const std::string_view text = PQcmdTuples(r.rows.get());
    std::size_t n = 0;
    std::from_chars(text.data(), text.data() + text.size(), n);
    return n;
}

namespace {
std::optional<std::string_view> field_text(const result_data& r, std::size_t row, int column) {
    const auto i = static_cast<int>(row);
    if (PQgetisnull(r.rows.get(), i, column)) return std::nullopt;
    return std::string_view(PQgetvalue(r.rows.get(), i, column),
                            static_cast<std::size_t>(PQgetlength(r.rows.get(), i, column)));
}
}  // namespace

std::optional<std::string_view> result_field(const result_data& r, std::size_t row, std::string_view column) {
    const int number = PQfnumber(r.rows.get(), std::string(column).c_str());
    if (number < 0) throw std::out_of_range("keel: the result has no column '" + std::string(column) + "'");
    return field_text(r, row, number);
}

std::optional<std::string_view> result_field(const result_data& r, std::size_t row, std::size_t column) {
    const auto columns = static_cast<std::size_t>(PQnfields(r.rows.get()));
    if (column >= columns) {
        throw std::out_of_range("keel: the result has " + std::to_string(columns) + " column(s), not #" +
                                std::to_string(column));
    }
    return field_text(r, row, static_cast<int>(column));
}

std::optional<json_document> parse_json_column(std::string_view text, parse_failure& why) {
    try {
        return json_document(nlohmann::json::parse(text));
    } catch (const nlohmann::json::exception& e) {
        why = {std::string("the column is not JSON: ") + e.what(), "value_error.jsondecode"};
        return std::nullopt;
    }
}

std::string describe_model_errors(const model_errors& errors) {
    if (errors.errors().empty()) return "the JSON value does not fit the model";
    const auto& first = errors.errors().front();
    std::string at;
    for (const auto& part : first.loc) at += (at.empty() ? "" : ".") + part;
    std::string text = (at.empty() ? std::string() : "at " + at + ": ") + first.msg;
    if (errors.errors().size() > 1) text += " (and " + std::to_string(errors.errors().size() - 1) + " more)";
    return text;
}

void throw_column_error(std::string_view column, std::optional<std::string_view> text, std::string_view type,
                        std::string_view why) {
    constexpr std::size_t shown = 64;  // enough to recognise the value, not a whole document
    std::string quoted = "NULL";
    if (text) quoted = "'" + std::string(text->substr(0, shown)) + (text->size() > shown ? "…'" : "'");
    throw std::runtime_error("keel: column " + std::string(column) + " (" + quoted + ") does not map to " +
                             std::string(type) + ": " + std::string(why));
}

}  // namespace detail

}  // namespace keel
