// Buckets live in shards, each a hash map and a recency list under its own mutex: threads
// counting different clients rarely meet, and the oldest key of a full shard is dropped in O(1).

#include <keel/http_error.hpp>
#include <keel/rate_limit.hpp>

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <list>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

namespace keel {

namespace {

using steady = std::chrono::steady_clock;

struct bucket {
    std::string key;
    double tokens;
    steady::time_point updated;
};

struct shard {
    std::mutex mutex;
    std::list<bucket> recency;                                                // most recently seen first
    std::unordered_map<std::string_view, std::list<bucket>::iterator> index;  // views into recency's keys
};

constexpr std::size_t shard_count = 16;

// What a client is counted as: its address; for IPv6 its /64, which one subscriber usually holds
// whole (a new address per request must not mean a new bucket).
std::string client_key(std::string_view address) {
    if (address.find(':') == std::string_view::npos) return std::string(address);
    in6_addr parsed{};
    if (::inet_pton(AF_INET6, std::string(address).c_str(), &parsed) != 1) return std::string(address);
    std::fill(std::begin(parsed.s6_addr) + 8, std::end(parsed.s6_addr), 0);
    std::array<char, INET6_ADDRSTRLEN> text{};
    ::inet_ntop(AF_INET6, &parsed, text.data(), text.size());
    return std::string(text.data()) + "/64";
}

}  // namespace

struct rate_limiter::impl {
    rate_limit_options options;
    std::size_t per_shard = 0;
    std::array<shard, shard_count> shards;
};

rate_limiter::rate_limiter(rate_limit_options options) : impl_(std::make_unique<impl>()) {
    if (!(options.rate > 0) || options.burst == 0 || options.max_keys == 0)
        throw std::invalid_argument("keel: rate_limit_options: rate, burst and max_keys must be above 0");
    impl_->per_shard = std::max<std::size_t>(1, options.max_keys / shard_count);
    impl_->options = std::move(options);
}

rate_limiter::~rate_limiter() = default;

std::optional<std::chrono::milliseconds> rate_limiter::take(std::string_view key) {
    const auto& o = impl_->options;
    auto& s = impl_->shards[std::hash<std::string_view>{}(key) % shard_count];
    const auto now = steady::now();
    const std::lock_guard lock(s.mutex);
    auto found = s.index.find(key);
    if (found == s.index.end()) {
        if (s.index.size() >= impl_->per_shard) {
            s.index.erase(s.recency.back().key);
            s.recency.pop_back();
        }
        s.recency.push_front({std::string(key), static_cast<double>(o.burst), now});
        found = s.index.emplace(s.recency.front().key, s.recency.begin()).first;
    } else {
        s.recency.splice(s.recency.begin(), s.recency, found->second);
    }
    auto& b = *found->second;
    const std::chrono::duration<double> elapsed = now - b.updated;
    b.tokens = std::min(static_cast<double>(o.burst), b.tokens + elapsed.count() * o.rate);
    b.updated = now;
    if (b.tokens >= 1) {
        b.tokens -= 1;
        return std::nullopt;
    }
    const auto wait = std::chrono::duration<double>((1 - b.tokens) / o.rate);
    return std::chrono::ceil<std::chrono::milliseconds>(wait);
}

void rate_limiter::enforce(std::string_view key) {
    if (const auto wait = take(key)) {
        const auto seconds = std::max<long long>(1, std::chrono::ceil<std::chrono::seconds>(*wait).count());
        header_map headers;
        headers.set("Retry-After", std::to_string(seconds));
        throw http_error(status::too_many_requests, "Too Many Requests", std::move(headers));
    }
}

std::size_t rate_limiter::size() const {
    std::size_t total = 0;
    for (auto& s : impl_->shards) {
        const std::lock_guard lock(s.mutex);
        total += s.index.size();
    }
    return total;
}

middleware rate_limit(rate_limit_options options) {
    auto key = options.key ? std::move(options.key)
                           : std::function<std::string(const request&)>(
                                 [](const request& req) { return client_key(req.client_address()); });
    auto limiter = std::make_shared<rate_limiter>(std::move(options));
    return [limiter, key = std::move(key)](request& req, next call_next) -> task<response> {
        const auto who = key(req);
        if (!who.empty()) limiter->enforce(who);  // its http_error becomes the 429
        co_return co_await call_next(req);
    };
}

}  // namespace keel
