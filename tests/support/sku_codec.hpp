#pragma once

// docs/database.md's example of a user's own codec, compiled by the unit and PostgreSQL tests.

#include <keel/codec.hpp>

#include <optional>
#include <string>
#include <string_view>

struct sku {
    std::string code;  // "ABC-123"
};

template <>
struct keel::codec<sku> {
    static std::optional<sku> parse(std::string_view text, keel::parse_failure& why) {
        if (text.size() < 3 || text.find('-') == std::string_view::npos) {
            why = {"value is not a SKU (ABC-123)", "value_error.sku"};
            return std::nullopt;
        }
        return sku{std::string(text)};
    }
    static void format(std::string& out, const sku& value) { out += value.code; }
};
