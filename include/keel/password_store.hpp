#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace keel {

/// Costs of the argon2id hashes keel::password_store makes (OWASP's minimum by default: 19 MiB,
/// two passes). Verifying a stored hash uses the costs written in it.
struct argon2_costs {
    std::uint32_t memory_kib = 19 * 1024;
    std::uint32_t iterations = 2;
    std::uint32_t parallelism = 1;
};

/// Users and the argon2 hashes of their passwords, for HTTP Basic (keel::http_basic) on
/// internal tools. A hash is a PHC string, as `argon2 SALT -id -e` prints it
/// (`$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$...`); argon2id and argon2i are accepted.
/// Read-only once the app serves, so thread safe. Verifying is slow on purpose (tens of
/// milliseconds): it runs where blocking is allowed, never on an I/O thread.
class password_store {
public:
    /// Adds `user` with a stored hash; throws std::invalid_argument when it is not an argon2id
    /// or argon2i PHC string, or the user is already there.
    password_store& add_hash(std::string user, std::string phc);
    /// Adds `user` with `password`, hashed now with a random salt.
    password_store& add_password(std::string user, std::string_view password, argon2_costs costs = {});
    /// Reads `user:hash` lines, as htpasswd lays them out (blank lines and `#` comments skipped).
    static password_store from_file(const std::string& path);
    /// An argon2id PHC string of `password` with a random salt.
    static std::string hash(std::string_view password, argon2_costs costs = {});

    /// Whether `password` is `user`'s. An unknown user costs one verification too, so that
    /// timing does not tell which users exist; the comparison inside is constant time.
    bool verify(std::string_view user, std::string_view password) const;
    std::size_t size() const noexcept { return users_.size(); }

private:
    std::vector<std::pair<std::string, std::string>> users_;  // user, PHC string
};

}  // namespace keel
