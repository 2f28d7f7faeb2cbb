#include "db/read_position.hpp"

#include <keel/request.hpp>
#include <keel/response.hpp>

#include <array>
#include <charconv>
#include <cstdio>
#include <functional>
#include <mutex>

namespace keel::detail {

std::optional<wal_position> parse_wal_position(std::string_view text) noexcept {
    // Two hexadecimal numbers of up to 8 digits, `high/low`.
    const auto slash = text.find('/');
    if (slash == std::string_view::npos || slash == 0 || slash > 8 || text.size() - slash - 1 == 0 ||
        text.size() - slash - 1 > 8)
        return std::nullopt;
    std::uint32_t high = 0, low = 0;
    const auto read = [](std::string_view part, std::uint32_t& out) {
        const auto [end, error] = std::from_chars(part.data(), part.data() + part.size(), out, 16);
        return error == std::errc{} && end == part.data() + part.size();
    };
    if (!read(text.substr(0, slash), high) || !read(text.substr(slash + 1), low)) return std::nullopt;
    return (static_cast<wal_position>(high) << 32) | low;
}

std::string format_wal_position(wal_position at) {
    char text[20];
    const int n = std::snprintf(text, sizeof text, "%X/%X", static_cast<unsigned>(at >> 32),
                                static_cast<unsigned>(at & 0xFFFFFFFFu));
    return std::string(text, static_cast<std::size_t>(n));
}

namespace {

// The value of cookie `name` in a Cookie header, if there.
std::optional<std::string_view> cookie_value(std::string_view header, std::string_view name) {
    while (!header.empty()) {
        const auto end = header.find(';');
        auto pair = header.substr(0, end);
        while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
        if (pair.size() > name.size() && pair.substr(0, name.size()) == name && pair[name.size()] == '=')
            return pair.substr(name.size() + 1);
        if (end == std::string_view::npos) break;
        header.remove_prefix(end + 1);
    }
    return std::nullopt;
}

}  // namespace

std::shared_ptr<read_position> read_position::of(const request& req) {
    // Sessions of one request may be opened on several threads at once: the slot is made under
    // a lock (one of a few, by the request's address).
    static std::array<std::mutex, 16> making;
    std::lock_guard lock(making[std::hash<const void*>{}(&req) % making.size()]);
    auto& slot = req.read_position_slot();
    if (slot) return slot;
    slot = std::make_shared<read_position>();
    // A token that does not parse is ignored: the read may then see a replica's older state,
    // which is what a client without a token gets.
    std::optional<std::string_view> token = req.header(read_after_header);
    if (!token) {
        if (const auto cookies = req.header("Cookie")) token = cookie_value(*cookies, read_after_cookie);
    }
    if (token) {
        if (const auto at = parse_wal_position(*token)) slot->read_after.store(*at);
    }
    return slot;
}

namespace {

void raise_to(std::atomic<wal_position>& position, wal_position at) noexcept {
    auto seen = position.load();
    while (seen < at && !position.compare_exchange_weak(seen, at)) {
    }
}

}  // namespace

void read_position::note_commit(wal_position at, std::chrono::seconds lifetime) noexcept {
    raise_to(committed, at);
    raise_to(read_after, at);
    token_lifetime.store(lifetime.count());
}

void hand_out_read_position(const request& req, response& res) {
    const auto& slot = req.read_position_slot();
    if (!slot || slot->committed.load() == 0) return;
    const auto token = format_wal_position(slot->committed.load());
    res.headers().set(read_after_header, token);
    res.headers().add("Set-Cookie", std::string(read_after_cookie) + "=" + token +
                                        "; Path=/; Max-Age=" + std::to_string(slot->token_lifetime.load()) +
                                        "; HttpOnly; SameSite=Lax");
}

}  // namespace keel::detail
