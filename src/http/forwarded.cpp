#include "http/forwarded.hpp"

#include <keel/header_map.hpp>

#include <algorithm>
#include <optional>
#include <stdexcept>

namespace keel::detail {

namespace asio = boost::asio;

namespace {

std::vector<std::string_view> split(std::string_view text, char separator) {
    std::vector<std::string_view> out;
    while (!text.empty()) {
        const auto end = std::min(text.find(separator), text.size());
        out.push_back(trim_whitespace(text.substr(0, end)));
        text.remove_prefix(std::min(end + 1, text.size()));
    }
    return out;
}

// One hop as a proxy wrote it: an address, maybe with a port ("1.2.3.4:80", "[::1]:80") or in
// quotes (Forwarded); nullopt for anything else ("unknown", an obfuscated "_hidden").
std::optional<asio::ip::address> hop_address(std::string_view text) {
    if (text.size() >= 2 && text.front() == '"' && text.back() == '"') text = text.substr(1, text.size() - 2);
    if (text.starts_with('[')) {
        const auto close = text.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        text = text.substr(1, close - 1);
    } else if (std::count(text.begin(), text.end(), ':') == 1) {
        text = text.substr(0, text.find(':'));
    }
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(std::string(text), ec);
    if (ec) return std::nullopt;
    return unmapped(address);
}

// Every header field `name` holds, in order, as one comma-separated list.
std::vector<std::string_view> list_of(const request& req, std::string_view name) {
    std::vector<std::string_view> out;
    for (const auto& [key, value] : req.headers()) {
        if (!iequals(key, name)) continue;
        for (auto item : split(value, ',')) out.push_back(item);
    }
    return out;
}

struct forwarded_hops {
    std::vector<std::string_view> clients;  // for=, nearest last
    std::string_view proto;                 // the nearest proxy's
};

// The hops of the one header the proxies write (the other is the client's, passed through), and
// the scheme the nearest proxy saw: its own element's, never one further out.
forwarded_hops read_forwarded(const request& req, bool rfc7239) {
    forwarded_hops hops;
    if (!rfc7239) {
        hops.clients = list_of(req, "X-Forwarded-For");
        if (const auto protos = list_of(req, "X-Forwarded-Proto"); !protos.empty())
            hops.proto = protos.back();
        return hops;
    }
    for (const auto element : list_of(req, "Forwarded")) {
        std::string_view client, proto;
        for (const auto pair : split(element, ';')) {
            const auto equals = pair.find('=');
            if (equals == std::string_view::npos) continue;
            const auto key = trim_whitespace(pair.substr(0, equals));
            const auto value = trim_whitespace(pair.substr(equals + 1));
            if (iequals(key, "for")) client = value;
            if (iequals(key, "proto")) proto = value;
        }
        hops.clients.push_back(client);
        hops.proto = proto;  // the last element is the nearest proxy's
    }
    return hops;
}

}  // namespace

asio::ip::address unmapped(const asio::ip::address& address) noexcept {
    if (address.is_v6() && address.to_v6().is_v4_mapped())
        return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
    return address;
}

trusted_proxies::trusted_proxies(const std::vector<std::string>& entries, bool rfc7239) : rfc7239_(rfc7239) {
    for (const auto& entry : entries) {
        if (entry == "*") {
            any_ = true;
            continue;
        }
        boost::system::error_code ec;
        const auto slash = entry.find('/');
        const auto address = asio::ip::make_address(entry.substr(0, slash), ec);
        if (!ec) {
            if (address.is_v4()) {
                const auto network = slash == std::string::npos ? asio::ip::network_v4(address.to_v4(), 32)
                                                                : asio::ip::make_network_v4(entry, ec);
                if (!ec) v4_.push_back(network);
            } else {
                const auto network = slash == std::string::npos ? asio::ip::network_v6(address.to_v6(), 128)
                                                                : asio::ip::make_network_v6(entry, ec);
                if (!ec) v6_.push_back(network);
            }
        }
        if (ec)
            throw std::invalid_argument("keel: forwarded_allow_ips: '" + entry +
                                        "' is not \"*\", an address or a network (10.0.0.0/8, fd00::/8)");
    }
}

bool trusted_proxies::trusts(const asio::ip::address& address) const noexcept {
    if (any_) return true;
    if (address.is_v4()) {
        const auto v4 = address.to_v4();
        for (const auto& network : v4_) {
            if ((v4.to_uint() & network.netmask().to_uint()) == network.network().to_uint()) return true;
        }
        return false;
    }
    const auto v6 = address.to_v6().to_bytes();
    for (const auto& network : v6_) {
        const auto base = network.network().to_bytes();
        const auto bits = network.prefix_length();
        bool inside = true;
        for (unsigned i = 0; i < 16 && inside; ++i) {
            const unsigned covered = bits > 8 * i ? std::min(8U, bits - 8 * i) : 0;
            const auto mask = static_cast<unsigned char>(0xFF00U >> covered);
            inside = (v6[i] & mask) == (base[i] & mask);
        }
        if (inside) return true;
    }
    return false;
}

void trusted_proxies::identify_client(request& req, const asio::ip::address& peer) const {
    if (empty() || !trusts(peer)) {
        req.set_client_address(peer.to_string());
        return;
    }
    const auto hops = read_forwarded(req, rfc7239_);
    if (hops.clients.empty()) {
        req.set_client_address(peer.to_string());
        return;
    }
    // From the nearest hop outwards, the first address that is not one of our proxies is the
    // client: anything further out was written by the client itself and proves nothing.
    std::optional<asio::ip::address> client;
    for (auto it = hops.clients.rbegin(); it != hops.clients.rend(); ++it) {
        const auto address = hop_address(*it);
        if (!address) break;  // "unknown" or garbage: no further hop can be believed
        client = address;
        if (!trusts(*address)) break;
    }
    req.set_client_address(client ? client->to_string() : peer.to_string(), client.has_value());
    const auto proto = trim_whitespace(hops.proto);
    if (iequals(proto, "https")) req.set_secure(true);
}

}  // namespace keel::detail
