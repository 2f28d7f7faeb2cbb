#pragma once

// Who the client is behind trusted proxies: the addresses of server_options::forwarded_allow_ips,
// and how a request from one of them is read (RFC 7239 `Forwarded`, or the de facto
// `X-Forwarded-For` and `X-Forwarded-Proto`).

#include <keel/request.hpp>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace keel::detail {

class trusted_proxies {
public:
    /// Throws std::invalid_argument naming an entry that is neither "*", an address nor a network.
    /// `rfc7239`: read `Forwarded`; else `X-Forwarded-For` and `X-Forwarded-Proto`.
    trusted_proxies(const std::vector<std::string>& entries, bool rfc7239);

    bool empty() const noexcept { return !any_ && v4_.empty() && v6_.empty(); }
    bool trusts(const boost::asio::ip::address& address) const noexcept;

    /// Sets the request's client address and scheme: from its forwarding headers when `peer`
    /// is trusted, else the peer's address.
    void identify_client(request& req, const boost::asio::ip::address& peer) const;

private:
    bool any_ = false;
    bool rfc7239_ = false;
    std::vector<boost::asio::ip::network_v4> v4_;
    std::vector<boost::asio::ip::network_v6> v6_;
};

/// The address as keel writes it ("::ffff:10.0.0.1" as "10.0.0.1"): IPv4 peers of a dual-stack
/// socket are IPv4 clients.
boost::asio::ip::address unmapped(const boost::asio::ip::address& address) noexcept;

}  // namespace keel::detail
