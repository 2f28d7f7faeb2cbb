#pragma once

// A read that brings the first byte's arrival stamp with it (arrival_time.hpp), run by Asio's
// reactor exactly as async_read_some is: tried at once, else queued until epoll reports the
// socket readable, then one recvmsg. Waiting for readability with async_wait and reading after
// it would be simpler, but Asio re-arms epoll (EPOLL_CTL_MOD) for every such wait: a system
// call per request that the server's own read does not make.
//
// Asio has no public way to run a custom read in its reactor, so this uses its reactor
// interface (boost::asio::detail), written against Boost 1.81's. Other versions take the
// wait-then-read path (KEEL_STAMPED_RECEIVE_IN_REACTOR is 0). Private to the server.

#include "http/arrival_time.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/version.hpp>

#include <cerrno>
#include <cstddef>
#include <utility>

#if BOOST_VERSION / 100 == 1081 && !defined(BOOST_ASIO_HAS_IOCP) && \
    !defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT)
#define KEEL_STAMPED_RECEIVE_IN_REACTOR 1
#include <boost/asio/detail/reactor.hpp>
#include <boost/asio/detail/reactor_op.hpp>
#else
#define KEEL_STAMPED_RECEIVE_IN_REACTOR 0
#endif

namespace keel::detail {

#if KEEL_STAMPED_RECEIVE_IN_REACTOR

// The socket's registration with its reactor, which basic_socket keeps in a protected member:
// a derived class may name it (and only that, nothing is ever made of this type).
class socket_registration : public boost::asio::ip::tcp::socket {
public:
    static auto& of(boost::asio::ip::tcp::socket& s) noexcept {
        return (s.*&socket_registration::impl_).get_implementation();
    }
};

// One stamped read as a reactor operation: perform() reads (or says "not yet"), complete()
// hands the outcome to the handler and frees the operation.
template <class Handler>
class stamped_receive_op final : public boost::asio::detail::reactor_op {
public:
    stamped_receive_op(int socket, void* data, std::size_t size, received& out, Handler handler)
        : reactor_op(boost::system::error_code(), &perform, &complete),
          socket_(socket),
          data_(data),
          size_(size),
          out_(&out),
          handler_(std::move(handler)) {}

private:
    static status perform(reactor_op* base) {
        auto* self = static_cast<stamped_receive_op*>(base);
        for (;;) {
            *self->out_ = receive_stamped(self->socket_, self->data_, self->size_);
            if (self->out_->bytes >= 0) return done;  // 0: the peer closed
            const int error = self->out_->error;
            if (error == EINTR) continue;
            if (error == EAGAIN || error == EWOULDBLOCK) return not_done;  // wait for epoll
            self->ec_ = boost::system::error_code(error, boost::system::system_category());
            return done;
        }
    }

    // `owner` is null when the io_context is destroyed with the operation pending: then it is
    // only freed.
    static void complete(void* owner, boost::asio::detail::scheduler_operation* base,
                         const boost::system::error_code&, std::size_t) {
        auto* self = static_cast<stamped_receive_op*>(base);
        Handler handler(std::move(self->handler_));
        const boost::system::error_code ec = self->ec_;  // operation_aborted when the socket closed
        delete self;
        if (owner) handler(ec);
    }

    int socket_;
    void* data_;
    std::size_t size_;
    received* out_;
    Handler handler_;
};

#endif

/// Reads at most `size` bytes into `data`, with the first byte's arrival time, into `out`;
/// then calls `handler(error_code)` on the socket's thread: operation_aborted when the socket
/// was closed meanwhile, else success with `out` holding the outcome (bytes 0: the peer closed;
/// < 0: out.error). The socket must be stamping arrivals (stamp_arrivals).
template <class Handler>
void async_receive_stamped(boost::asio::ip::tcp::socket& socket, void* data, std::size_t size, received& out,
                           Handler handler) {
#if KEEL_STAMPED_RECEIVE_IN_REACTOR
    auto& registration = socket_registration::of(socket);
    auto& reactor = boost::asio::use_service<boost::asio::detail::reactor>(
        boost::asio::query(socket.get_executor(), boost::asio::execution::context));
    auto* op = new stamped_receive_op<Handler>(registration.socket_, data, size, out, std::move(handler));
    // A continuation: the read follows this connection's own previous operation.
    reactor.start_op(boost::asio::detail::reactor::read_op, registration.socket_, registration.reactor_data_,
                     op, true, true);
#else
    socket.async_wait(
        boost::asio::ip::tcp::socket::wait_read,
        [&socket, data, size, &out, handler = std::move(handler)](boost::system::error_code ec) mutable {
            if (ec) return handler(ec);
            out = receive_stamped(socket.native_handle(), data, size);
            if (out.bytes < 0 && (out.error == EAGAIN || out.error == EWOULDBLOCK || out.error == EINTR))
                return async_receive_stamped(socket, data, size, out, std::move(handler));
            handler(ec);
        });
#endif
}

}  // namespace keel::detail
