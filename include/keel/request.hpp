#pragma once

#include <keel/header_map.hpp>
#include <keel/method.hpp>
#include <keel/trace_context.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace keel {

namespace detail {
class hangup_signal;   // src/io/hangup_signal.hpp
struct read_position;  // src/db/read_position.hpp
}  // namespace detail

/// One HTTP request as a handler sees it: already parsed, framed and size-checked.
///
/// A request belongs to one handler invocation; it is not shared between threads while a
/// handler runs. Views it returns stay valid as long as the request does.
class request {
public:
    using param_list = std::vector<std::pair<std::string, std::string>>;

    request() = default;
    request(keel::method m, std::string target, std::string body = {});

    keel::method method() const noexcept { return method_; }
    /// The method token as sent ("GET", or e.g. "PROPFIND" for method::other).
    std::string_view method_name() const noexcept { return method_name_; }
    /// The request target as sent: path and query, percent-encoded.
    std::string_view target() const noexcept { return target_; }
    /// The path part of the target, still percent-encoded.
    std::string_view path() const noexcept;
    /// The part after '?', without it; empty when there is none.
    std::string_view query_string() const noexcept;
    /// 11 for HTTP/1.1, 10 for HTTP/1.0.
    int version() const noexcept { return version_; }
    /// Whether the client asked to keep the connection open after this request.
    bool keep_alive() const noexcept { return keep_alive_; }

    const header_map& headers() const noexcept { return headers_; }
    header_map& headers() noexcept { return headers_; }
    /// The first value of a header field (case-insensitive), if present.
    std::optional<std::string_view> header(std::string_view name) const noexcept {
        return headers_.get(name);
    }

    const std::string& body() const noexcept { return body_; }
    std::string& body() noexcept { return body_; }

    /// Path parameters of the matched route, percent-decoded, in template order.
    const param_list& path_params() const noexcept { return path_params_; }
    std::optional<std::string_view> path_param(std::string_view name) const noexcept;

    /// Query parameters, percent-decoded ('+' is a space), in order; a key may repeat.
    const param_list& query_params() const;
    /// The first value of query parameter `name`, if present.
    std::optional<std::string_view> query(std::string_view name) const;

    /// The peer's address ("127.0.0.1:53412"); empty for in-process requests.
    std::string_view remote_address() const noexcept { return remote_address_; }
    /// The client's IP address: the peer's, or, when the peer is a trusted proxy
    /// (server_options::forwarded_allow_ips), the one its `Forwarded` or `X-Forwarded-For` names.
    /// Empty for in-process requests.
    std::string_view client_address() const noexcept { return client_address_; }
    /// Whether client_address() came from a trusted proxy's header rather than the socket.
    bool forwarded() const noexcept { return forwarded_; }
    /// Whether the request came over HTTPS: to this server, or to a trusted proxy that says so
    /// (server_options::forwarded_allow_ips).
    bool secure() const noexcept { return secure_; }
    /// "https" or "http", as secure() says.
    std::string_view scheme() const noexcept { return secure_ ? "https" : "http"; }

    /// The request's id: the client's `X-Request-ID` when it is a valid one (1 to 128 of
    /// `A-Z a-z 0-9 - _ . : / + = @ ~`), otherwise a new random UUID. Given when the app
    /// starts handling the request; echoed in the response's `X-Request-ID`, named in keel's
    /// log lines for the request and in the body of its 5xx answers.
    std::string_view id() const noexcept { return {id_.data(), id_size_}; }
    /// Where the request sits in a distributed trace: from its W3C `traceparent` and
    /// `tracestate`, or a trace started here (see keel::trace_context). Given with id(); its
    /// trace and span ids are in keel's log lines for the request.
    const trace_context& trace() const noexcept { return trace_; }
    trace_context& trace() noexcept { return trace_; }
    /// The template of the route that matched ("/users/{id}"); empty before routing and when
    /// no route matched (a 404 or 405).
    std::string_view route() const noexcept { return route_; }

    // Set by the server, the router and the test client.
    void set_method(keel::method m, std::string_view name = {});
    void set_target(std::string target);
    void set_version(int v) noexcept { version_ = v; }
    void set_keep_alive(bool on) noexcept { keep_alive_ = on; }
    void set_remote_address(std::string address) { remote_address_ = std::move(address); }
    void set_secure(bool on) noexcept { secure_ = on; }
    void set_client_address(std::string address, bool forwarded = false) {
        client_address_ = std::move(address);
        forwarded_ = forwarded;
    }
    param_list& path_params() noexcept { return path_params_; }
    /// Sets id(); an id longer than max_id_size is cut (keel only sets valid ones).
    void set_id(std::string_view id) noexcept;
    static constexpr std::size_t max_id_size = 128;
    /// Sets route(); `index` is the route's place in the app (keel's metrics count by it). The
    /// template must outlive the request (the app's routes do).
    void set_route(std::string_view route_template, std::uint32_t index) noexcept {
        route_ = route_template;
        route_index_ = index;
    }
    static constexpr std::uint32_t no_route = UINT32_MAX;

    /// When the request must be answered by: the server's request_timeout after its first byte
    /// arrived, or its route's own (keel::route::timeout). keel's sessions bound every wait on the
    /// way to PostgreSQL by it. time_point::max() when there is none (in-process requests).
    std::chrono::steady_clock::time_point deadline() const noexcept { return deadline_; }
    void set_deadline(std::chrono::steady_clock::time_point at) noexcept { deadline_ = at; }
    /// When the server began reading the request (the deadline is counted from it); the
    /// epoch for in-process requests.
    std::chrono::steady_clock::time_point started() const noexcept { return started_; }
    void set_started(std::chrono::steady_clock::time_point at) noexcept { started_ = at; }
    /// keel's own: where the server says that the client hung up (null in-process).
    const std::shared_ptr<detail::hangup_signal>& hangup() const noexcept { return hangup_; }
    void set_hangup(std::shared_ptr<detail::hangup_signal> signal) noexcept { hangup_ = std::move(signal); }
    std::uint32_t route_index() const noexcept { return route_index_; }
    /// keel's own: the read-your-writes positions its sessions share (made on first use).
    std::shared_ptr<detail::read_position>& read_position_slot() const noexcept { return read_position_; }

private:
    keel::method method_ = keel::method::get;
    std::string method_name_ = "GET";
    std::string target_ = "/";
    std::size_t path_end_ = 1;  // target_[0, path_end_) is the path
    int version_ = 11;
    bool keep_alive_ = true;
    bool secure_ = false;
    bool forwarded_ = false;
    header_map headers_;
    std::string body_;
    param_list path_params_;
    mutable std::optional<param_list> query_params_;  // parsed on first use
    std::string remote_address_;
    std::string client_address_;
    std::array<char, max_id_size> id_{};  // in place: an id costs the request no allocation
    std::uint8_t id_size_ = 0;
    trace_context trace_;
    std::string_view route_;
    std::uint32_t route_index_ = no_route;
    std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
    std::chrono::steady_clock::time_point started_{};
    std::shared_ptr<detail::hangup_signal> hangup_;
    mutable std::shared_ptr<detail::read_position> read_position_;
};

}  // namespace keel
