#include "http/request_identity.hpp"

#include "types/hex.hpp"

#include <keel/uuid.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <random>
#include <string>

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

std::uint64_t random_bits() noexcept {
    thread_local id_generator generator;
    return generator.next();
}

void assign_request_id(request& req) {
    if (const auto given = req.header("x-request-id"); given && valid_request_id(*given)) {
        req.set_id(*given);
        return;
    }
    const std::uint64_t high = (random_bits() & ~0xF000ULL) | 0x4000ULL;             // version 4
    const std::uint64_t low = (random_bits() & ~(0x3ULL << 62U)) | (0x2ULL << 62U);  // RFC 4122 variant
    uuid::bytes_type bytes{};
    for (std::size_t i = 0; i < 8; ++i) {
        bytes[i] = static_cast<std::uint8_t>(high >> (56 - 8 * i));
        bytes[8 + i] = static_cast<std::uint8_t>(low >> (56 - 8 * i));
    }
    const auto text = uuid(bytes).text();
    req.set_id({text.data(), text.size()});
}

bool lower_hex(std::string_view s) noexcept {
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool all_zeros(std::string_view s) noexcept {
    return s.find_first_not_of('0') == std::string_view::npos;
}

template <std::size_t N>
void write_hex(std::array<char, N>& out, std::uint64_t high, std::uint64_t low) noexcept {
    static constexpr std::string_view digits = "0123456789abcdef";
    for (std::size_t i = 0; i < N; ++i) {
        const std::uint64_t word = i < 16 ? high : low;
        out[i] = digits[(word >> (60 - 4 * (i % 16))) & 0xFU];
    }
}

// The trace context of a valid `traceparent` (version 00's four fields; a later version's
// first four, as the spec asks of a version 00 parser), or nothing.
struct parsed_parent {
    std::string_view trace_id, parent_id;
    std::uint8_t flags;
};
std::optional<parsed_parent> parse_traceparent(std::string_view value) noexcept {
    constexpr std::size_t size = 55;  // "vv-<32 hex>-<16 hex>-ff"
    if (value.size() < size || !lower_hex(value.substr(0, 2)) || value.substr(0, 2) == "ff")
        return std::nullopt;
    if (value.substr(0, 2) == "00" ? value.size() != size : value.size() > size && value[size] != '-') {
        return std::nullopt;
    }
    if (value[2] != '-' || value[35] != '-' || value[52] != '-') return std::nullopt;
    const auto trace_id = value.substr(3, 32);
    const auto parent_id = value.substr(36, 16);
    const auto flags = value.substr(53, 2);
    if (!lower_hex(trace_id) || !lower_hex(parent_id) || !lower_hex(flags)) return std::nullopt;
    if (all_zeros(trace_id) || all_zeros(parent_id)) return std::nullopt;
    return parsed_parent{
        trace_id, parent_id,
        static_cast<std::uint8_t>(hex_digit_value(flags[0]) * 16 + hex_digit_value(flags[1]))};
}

// Every tracestate field joined by ',', when the whole is at most 512 printable ASCII
// characters (the spec's limit); else empty: nothing that could break a log line or a header.
std::string joined_tracestate(const header_map& headers) {
    std::string joined;
    for (const auto& [name, value] : headers) {
        if (name.size() != 10 || !iequals(name, "tracestate")) continue;
        if (!joined.empty()) joined += ',';
        joined += value;
    }
    const bool printable =
        std::all_of(joined.begin(), joined.end(), [](char c) { return c >= 0x20 && c <= 0x7E; });
    if (joined.size() > 512 || !printable) joined.clear();
    return joined;
}

void assign_trace_context(request& req) {
    std::array<char, 16> span{};
    write_hex(span, random_bits(), 0);
    const std::string_view span_id(span.data(), span.size());
    if (req.headers().count("traceparent") == 1) {
        if (const auto parent = parse_traceparent(*req.header("traceparent"))) {
            req.trace().set(parent->trace_id, parent->parent_id, span_id, parent->flags,
                            joined_tracestate(req.headers()));
            return;
        }
    }
    std::array<char, 32> trace{};
    std::uint64_t high = 0;
    std::uint64_t low = 0;
    while (high == 0 && low == 0) {
        high = random_bits();
        low = random_bits();
    }
    write_hex(trace, high, low);
    req.trace().set({trace.data(), trace.size()}, {}, span_id, 0, {});
}

}  // namespace

bool valid_request_id(std::string_view id) noexcept {
    return !id.empty() && id.size() <= request::max_id_size && std::all_of(id.begin(), id.end(), allowed);
}

void assign_request_identity(request& req) {
    assign_request_id(req);
    assign_trace_context(req);
}

void echo_request_id(const request& req, response& res) {
    if (!req.id().empty()) res.headers().set("X-Request-ID", std::string(req.id()));
}

}  // namespace keel::detail
