#include <keel/api_key.hpp>
#include <keel/bearer_token.hpp>  // detail::throw_not_authenticated
#include <keel/header_map.hpp>
#include <keel/http_error.hpp>

#include "security/credentials.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <stdexcept>

namespace keel {

namespace {

using digest = std::array<unsigned char, 32>;

digest sha256(std::string_view text) {
    digest out{};
    unsigned int length = 0;
    if (EVP_Digest(text.data(), text.size(), out.data(), &length, EVP_sha256(), nullptr) != 1 ||
        length != out.size())
        throw std::runtime_error("keel: SHA-256 failed");
    return out;
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Every value of cookie `name` in one Cookie field ("a=1; b=2"); a quoted value loses its quotes.
void cookies_in(std::string_view field, std::string_view name, std::vector<std::string_view>& found) {
    while (!field.empty()) {
        const auto end = std::min(field.find(';'), field.size());
        const auto pair = trim_whitespace(field.substr(0, end));
        field.remove_prefix(std::min(end + 1, field.size()));
        const auto equals = pair.find('=');
        if (equals == std::string_view::npos || trim_whitespace(pair.substr(0, equals)) != name) continue;
        auto value = trim_whitespace(pair.substr(equals + 1));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
            value = value.substr(1, value.size() - 2);
        found.push_back(value);
    }
}

}  // namespace

api_key_store& api_key_store::add_hash(std::string id, std::string_view sha256_hex) {
    sha256_hex = trim_whitespace(sha256_hex);
    digest value{};
    if (sha256_hex.size() != 2 * value.size())
        throw std::invalid_argument("keel: API key '" + id + "': a SHA-256 digest is 64 hex digits");
    for (std::size_t i = 0; i < value.size(); ++i) {
        const int high = hex_digit(sha256_hex[2 * i]);
        const int low = hex_digit(sha256_hex[2 * i + 1]);
        if (high < 0 || low < 0)
            throw std::invalid_argument("keel: API key '" + id + "': a SHA-256 digest is 64 hex digits");
        value[i] = static_cast<unsigned char>(high * 16 + low);
    }
    keys_.push_back({std::move(id), value});
    return *this;
}

api_key_store& api_key_store::add_key(std::string id, std::string_view key) {
    if (key.empty()) throw std::invalid_argument("keel: API key '" + id + "' is empty");
    keys_.push_back({std::move(id), sha256(key)});
    return *this;
}

api_key_store api_key_store::from_file(const std::string& path) {
    api_key_store store;
    detail::read_entries(
        path, "API key file", " \t", "id sha256-hex",
        [&](std::string_view id, std::string_view digest) { store.add_hash(std::string(id), digest); });
    return store;
}

std::optional<std::string> api_key_store::identify(std::string_view presented) const {
    const auto offered = sha256(presented);
    const entry* found = nullptr;
    for (const auto& key : keys_) {
        // Every digest is compared, in constant time: how long this takes says nothing.
        const bool same = CRYPTO_memcmp(key.digest.data(), offered.data(), offered.size()) == 0;
        if (same && found == nullptr) found = &key;
    }
    if (found == nullptr) return std::nullopt;
    return found->id;
}

namespace detail {

std::optional<std::string_view> api_key_value(const request& req, std::string_view name, api_key_in in) {
    std::vector<std::string_view> found;
    switch (in) {
        case api_key_in::header:
            found = header_values(req, name);
            break;
        case api_key_in::query:
            found = query_values(req, name);
            break;
        case api_key_in::cookie:
            // Two cookies of the name (one set by a sibling subdomain?) are refused like two headers.
            for (const auto& field : header_values(req, "Cookie")) cookies_in(field, name, found);
            break;
    }
    if (found.size() != 1 || found.front().empty()) return std::nullopt;
    return found.front();
}

api_key_identity check_api_key(std::optional<std::string_view> presented, const api_key_store& keys,
                               const request_logger& log) {
    if (presented) {
        if (auto id = keys.identify(*presented)) return {std::move(*id)};
        log.info("keel: API key refused: no stored key matches");
    }
    throw_not_authenticated("APIKey");
}

}  // namespace detail

}  // namespace keel
