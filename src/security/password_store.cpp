#include <keel/header_map.hpp>
#include <keel/password_store.hpp>

#include "security/credentials.hpp"

#include <argon2.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <optional>
#include <stdexcept>

namespace keel {

namespace {

// Which argon2 a PHC string names; argon2d (side channels) is not for passwords.
std::optional<argon2_type> type_of(std::string_view phc) {
    if (phc.starts_with("$argon2id$")) return Argon2_id;
    if (phc.starts_with("$argon2i$")) return Argon2_i;
    return std::nullopt;
}

bool matches(const std::string& phc, std::string_view password) {
    const auto type = type_of(phc);
    return type && argon2_verify(phc.c_str(), password.data(), password.size(), *type) == ARGON2_OK;
}

}  // namespace

password_store& password_store::add_hash(std::string user, std::string phc) {
    phc = std::string(trim_whitespace(phc));
    if (user.empty() || user.find(':') != std::string::npos)
        throw std::invalid_argument("keel: password_store: user '" + user +
                                    "': a user name is not empty and has no ':'");
    if (!type_of(phc))
        throw std::invalid_argument(
            "keel: password_store: user '" + user +
            "': the hash is not an argon2id or argon2i PHC string ($argon2id$v=19$...)");
    // A hash that cannot be parsed would fail every login silently: check it can be verified.
    const int checked = argon2_verify(phc.c_str(), "", 0, *type_of(phc));
    if (checked != ARGON2_OK && checked != ARGON2_VERIFY_MISMATCH)
        throw std::invalid_argument("keel: password_store: user '" + user +
                                    "': the hash does not parse: " + argon2_error_message(checked));
    if (std::any_of(users_.begin(), users_.end(), [&](const auto& entry) { return entry.first == user; }))
        throw std::invalid_argument("keel: password_store: user '" + user + "' is there twice");
    users_.emplace_back(std::move(user), std::move(phc));
    return *this;
}

password_store& password_store::add_password(std::string user, std::string_view password,
                                             argon2_costs costs) {
    return add_hash(std::move(user), hash(password, costs));
}

std::string password_store::hash(std::string_view password, argon2_costs costs) {
    std::array<unsigned char, 16> salt{};
    if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1)
        throw std::runtime_error("keel: no random salt");
    constexpr std::size_t hash_bytes = 32;
    std::string encoded(argon2_encodedlen(costs.iterations, costs.memory_kib, costs.parallelism,
                                          static_cast<std::uint32_t>(salt.size()), hash_bytes, Argon2_id),
                        '\0');
    const int made = argon2id_hash_encoded(costs.iterations, costs.memory_kib, costs.parallelism,
                                           password.data(), password.size(), salt.data(), salt.size(),
                                           hash_bytes, encoded.data(), encoded.size());
    if (made != ARGON2_OK)
        throw std::invalid_argument(std::string("keel: argon2: ") + argon2_error_message(made));
    encoded.resize(encoded.find('\0'));
    return encoded;
}

password_store password_store::from_file(const std::string& path) {
    password_store store;
    detail::read_entries(path, "password file", ":", "user:hash",
                         [&](std::string_view user, std::string_view phc) {
                             store.add_hash(std::string(user), std::string(phc));
                         });
    return store;
}

bool password_store::verify(std::string_view user, std::string_view password) const {
    const auto found =
        std::find_if(users_.begin(), users_.end(), [&](const auto& entry) { return entry.first == user; });
    if (found == users_.end()) {
        // As long as a real check: verify against some user's hash, and refuse whatever it says.
        if (!users_.empty()) (void)matches(users_.back().second, password);
        return false;
    }
    return matches(found->second, password);
}

}  // namespace keel
