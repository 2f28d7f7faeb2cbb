#include "http/request_id.hpp"

#include <keel/uuid.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <random>

namespace keel::detail {

namespace {

// xoshiro256**: a fast generator, one per thread, seeded from the system's entropy: request ids
// must not collide across threads or processes, and need not be secret.
class id_generator {
public:
    id_generator() {
        std::random_device entropy;
        static std::atomic<std::uint64_t> threads{0};
        std::uint64_t seed = (static_cast<std::uint64_t>(entropy()) << 32U) ^ entropy() ^
                             (threads.fetch_add(1, std::memory_order_relaxed) * 0x9E3779B97F4A7C15ULL);
        for (auto& word : state_) word = split_mix(seed);
    }

    std::uint64_t next() noexcept {
        const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
        const std::uint64_t t = state_[1] << 17U;
        state_[2] ^= state_[0];
        state_[3] ^= state_[1];
        state_[1] ^= state_[2];
        state_[0] ^= state_[3];
        state_[2] ^= t;
        state_[3] = rotl(state_[3], 45);
        return result;
    }

private:
    static std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
    static std::uint64_t split_mix(std::uint64_t& x) noexcept {
        std::uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30U)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27U)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31U);
    }
    std::array<std::uint64_t, 4> state_{};
};

bool allowed(char c) noexcept {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    return alnum || std::string_view("-_.:/+=@~").find(c) != std::string_view::npos;
}

}  // namespace

bool valid_request_id(std::string_view id) noexcept {
    return !id.empty() && id.size() <= request::max_id_size && std::all_of(id.begin(), id.end(), allowed);
}

void assign_request_id(request& req) {
    if (const auto given = req.header("x-request-id"); given && valid_request_id(*given)) {
        req.set_id(*given);
        return;
    }
    thread_local id_generator generator;
    const std::uint64_t high = (generator.next() & ~0xF000ULL) | 0x4000ULL;             // version 4
    const std::uint64_t low = (generator.next() & ~(0x3ULL << 62U)) | (0x2ULL << 62U);  // RFC 4122 variant
    uuid::bytes_type bytes{};
    for (std::size_t i = 0; i < 8; ++i) {
        bytes[i] = static_cast<std::uint8_t>(high >> (56 - 8 * i));
        bytes[8 + i] = static_cast<std::uint8_t>(low >> (56 - 8 * i));
    }
    const auto text = uuid(bytes).text();
    req.set_id({text.data(), text.size()});
}

void echo_request_id(const request& req, response& res) {
    if (!req.id().empty()) res.headers().set("X-Request-ID", std::string(req.id()));
}

}  // namespace keel::detail
