#pragma once

#include <keel/middleware.hpp>
#include <keel/request.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace keel {

/// A token bucket per key: `burst` requests at once, refilled at `rate` per second.
struct rate_limit_options {
    double rate = 10;        ///< requests per second, sustained
    std::size_t burst = 20;  ///< requests at once, after a quiet spell
    /// Keys tracked at most; past it the least recently seen are forgotten (a forgotten key
    /// starts again with a full bucket), so a flood of distinct keys cannot exhaust memory.
    std::size_t max_keys = 100'000;
    /// What a request is counted by, for keel::rate_limit; by default its client's address
    /// (keel::request::client_address: behind a trusted proxy, the client it names), and for an
    /// IPv6 client its /64.
    std::function<std::string(const request&)> key{};
};

/// Token buckets by key, thread safe: for limits per identity or API key, from a provider
/// (`limiter.enforce(caller->id)`), or per address through keel::rate_limit.
class rate_limiter {
public:
    /// Throws std::invalid_argument for a rate, burst or max_keys of 0.
    explicit rate_limiter(rate_limit_options options = {});
    ~rate_limiter();
    rate_limiter(const rate_limiter&) = delete;
    rate_limiter& operator=(const rate_limiter&) = delete;

    /// Takes a token from `key`'s bucket: nothing when there was one, else how long until there
    /// is (then nothing is taken).
    std::optional<std::chrono::milliseconds> take(std::string_view key);
    /// take(), or http_error 429 `{"detail": "Too Many Requests"}` with `Retry-After` (whole
    /// seconds, at least 1).
    void enforce(std::string_view key);
    /// Keys tracked now (never more than max_keys).
    std::size_t size() const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

/// A middleware that answers 429 with `Retry-After` to a client past its limit, before routing:
/// `app.use(keel::rate_limit({.rate = 5, .burst = 10}));`. Requests without a key (in-process
/// ones have no address) pass.
middleware rate_limit(rate_limit_options options = {});

}  // namespace keel
