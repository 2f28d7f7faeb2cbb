#pragma once

#include <keel/codec.hpp>

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace keel {

/// Binary data (PostgreSQL's `bytea`): a std::vector<std::byte> of its own type, so that it is
/// one value, not a list of numbers. In JSON and in path, query and header values it is
/// standard base64 with padding (RFC 4648 §4); to PostgreSQL it is sent and read as hex.
class bytes : public std::vector<std::byte> {
public:
    using std::vector<std::byte>::vector;
    bytes() = default;
    explicit bytes(std::vector<std::byte> data) : std::vector<std::byte>(std::move(data)) {}
    /// The bytes of `text`, as they are.
    static bytes from_string(std::string_view text);

    std::string_view as_string() const noexcept { return {reinterpret_cast<const char*>(data()), size()}; }
};

/// Base64 (RFC 4648 §4, with padding); nullopt for text that is not exactly that.
std::optional<bytes> from_base64(std::string_view text);
std::string to_base64(const bytes& data);

template <>
struct codec<bytes> {
    static std::optional<bytes> parse(std::string_view text, parse_failure& why);        // base64
    static std::optional<bytes> from_column(std::string_view text, parse_failure& why);  // \x hex
    static void format(std::string& out, const bytes& value);                            // \x hex
    static void write_json(std::string& out, const bytes& value);                        // "base64"
    static void describe(schema& s);
};

}  // namespace keel
