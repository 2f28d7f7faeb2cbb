// The HTTP/1.1 server: Asio for sockets and threads, Beast's parser for reading requests,
// keel::task coroutines for the per-connection loop.
//
// Threads: one io_context per I/O thread, each run by exactly one thread, so a connection and
// everything it touches live on one thread and need no locks or strands. One acceptor (on
// thread 0) deals connections round-robin. Blocking handlers go to the worker pool and resume
// on their connection's thread.
//
// Timeouts: every connection carries a deadline; a per-thread sweeper closes the connections
// past theirs. That costs one clock read per phase instead of a timer per operation.

#include <keel/app.hpp>
#include <keel/metrics.hpp>
#include <keel/offload.hpp>
#include <keel/request_logger.hpp>
#include <keel/server.hpp>

#include "http/access_line.hpp"
#include "http/arrival_time.hpp"
#include "http/forwarded.hpp"
#include "http/framing.hpp"
#include "http/request_identity.hpp"
#include "http/stamped_receive.hpp"
#include "http/tls_certificates.hpp"
#include "http/wire.hpp"
#include "http/worker_pool.hpp"
#include "io/event_loop.hpp"
#include "io/hangup_signal.hpp"
#include "metrics/families.hpp"
#include "metrics/http_metrics.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

#include <sys/resource.h>
#include <sys/socket.h>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <unordered_set>
#include <vector>

namespace keel {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
namespace ssl = asio::ssl;
using tls_stream = ssl::stream<tcp::socket&>;
using error_code = boost::system::error_code;
using steady = std::chrono::steady_clock;

namespace {

// ------------------------------------------------------------------ awaiting Asio from a keel::task

struct io_result {
    error_code ec;
    std::size_t bytes = 0;
};

// Starts an Asio operation when awaited; its completion resumes the coroutine in place, on the
// connection's own thread.
template <class Initiate>
struct io_awaiter {
    Initiate initiate;
    io_result result{};

    struct handler {
        io_awaiter* self;
        std::coroutine_handle<> waiting;
        void operator()(error_code ec, std::size_t bytes = 0) const {
            self->result = {ec, bytes};
            waiting.resume();
        }
    };

    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> waiting) { initiate(handler{this, waiting}); }
    io_result await_resume() const noexcept { return result; }
};

template <class Initiate>
io_awaiter<Initiate> async_io(Initiate initiate) {
    return {std::move(initiate)};
}

void raise_open_file_limit() noexcept {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
    }
}

// ------------------------------------------------------------------ per-thread state

struct connection {
    explicit connection(tcp::socket s) : socket(std::move(s)) {}
    void close() noexcept {
        error_code ignored;
        socket.close(ignored);
    }

    tcp::socket socket;
    steady::time_point deadline = steady::time_point::max();
    bool idle = true;  // between requests: closed at once on shutdown
    bool timed_out = false;
    // Where the request's sessions register a statement in flight; the sweeper cancels it when
    // the client hangs up meanwhile (made at the first request).
    std::shared_ptr<detail::hangup_signal> hangup;
    bool hangup_reported = false;
};

// Whether the peer of a connection whose request is being handled has gone: end-of-file or a
// reset, seen without reading. A byte waiting (a pipelined request) says the client is there.
// A client that half-closes after sending its request is taken as gone, as nginx does.
bool client_gone(int fd) noexcept {
    char byte = 0;
    const auto got = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (got == 0) return true;
    if (got > 0) return false;
    return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
}

// Cancels the statement a hung-up client's request waits on. libpq's cancel connects to the
// server, so it runs on the worker pool, as a job nobody waits for: the server may finish
// before it does, and it must not be left waiting to resume on a stopped I/O thread.
struct hangup_job final : detail::blocking_job {
    std::shared_ptr<detail::hangup_signal> signal;
};

void cancel_for_hangup(detail::worker_pool& workers, std::shared_ptr<detail::hangup_signal> signal) {
    auto job = std::make_unique<hangup_job>();
    job->signal = std::move(signal);
    job->run = [](detail::blocking_job& self) noexcept {
        const std::unique_ptr<hangup_job> owned(static_cast<hangup_job*>(&self));
        owned->signal->hang_up();
    };
    // A full queue: the statement runs on to its deadline, as it would have without the cancel.
    if (workers.try_submit(*job)) static_cast<void>(job.release());  // run() frees it
}

struct io_thread final : detail::io_resumer {
    asio::io_context context{1};
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> keep_running{
        context.get_executor()};
    std::unordered_set<connection*> connections;
    asio::steady_timer sweeper{context};
    bool stopped = false;  // set when the server has drained: nothing may re-arm after it

    void resume_later(std::coroutine_handle<> h) noexcept override {
        asio::post(context, [h] { h.resume(); });
    }
};

}  // namespace

// ------------------------------------------------------------------ the server

struct server::impl {
    impl(app& application_, server_options options_);

    void start_accepting();
    task<void> accept_loop(tcp::acceptor& from, bool metrics_only, bool tls);
    task<void> serve(io_thread& thread, tcp::socket socket, bool metrics_only,
                     std::shared_ptr<ssl::context> tls);
    // The requests of one connection, over the socket itself or over TLS on it.
    template <class Stream>
    task<void> serve_requests(connection& conn, Stream& stream, bool metrics_only);
    response metrics_page(const request& req) const;
    template <class Stream>
    task<void> answer_and_close(connection& conn, Stream& stream, const response& res);
    template <class Stream>
    task<void> refuse(connection& conn, Stream& stream, detail::refusal cause, status code,
                      std::string_view why);
    template <class Stream>
    task<void> end_writing(connection& conn, Stream& stream);
    void count_refusal(detail::refusal cause) const noexcept;
    void collect(std::vector<prometheus::MetricFamily>& out) const;
    void connection_closed();
    void sweep(io_thread& thread);
    void watch_signals();
    void watch_reload_signal();
    void request_shutdown();
    void begin_shutdown();
    void finish_if_drained();

    app& application;
    server_options options;
    const logger& log;
    std::vector<std::unique_ptr<io_thread>> threads;
    std::unique_ptr<detail::worker_pool> workers;
    tcp::acceptor acceptor;
    std::optional<tcp::acceptor> metrics_acceptor;  // server_options::metrics_port
    std::unique_ptr<detail::tls_certificates> tls;  // server_options::tls_certificate_file
    std::optional<tcp::acceptor> tls_acceptor;      // server_options::tls_port
    unsigned short tls_bound_port = 0;
    unsigned short metrics_bound_port = 0;
    // keel's per-request metrics, when something serves them (else null: nothing recorded).
    detail::http_metrics* http_metrics = nullptr;
    std::size_t metrics_collector = 0;
    asio::steady_timer accept_gate;  // waited on while max_connections are open
    asio::steady_timer drain_timer;
    asio::steady_timer delay_timer;  // server_options::shutdown_delay
    asio::signal_set signals;
    std::optional<asio::signal_set> reload_signals;  // SIGHUP: reload the TLS certificate
    detail::trusted_proxies proxies;                 // server_options::forwarded_allow_ips
    std::atomic<std::size_t> open_connections{0};
    std::atomic<bool> shutdown_requested{false};  // stop() or a signal: the app drains from now
    std::atomic<bool> stopping{false};            // the listener is closed, connections drain
    bool finished = false;                        // thread 0 only
    steady::duration sweep_interval;
    unsigned short bound_port = 0;

    bool app_started = false;  // this server holds a start() of the app

    std::mutex run_mutex;
    std::condition_variable run_done;
    bool running = false;
};

server::impl::impl(app& application_, server_options options_)
    : application(application_),
      options(std::move(options_)),
      log(application_.logger()),
      threads([&] {
          std::vector<std::unique_ptr<io_thread>> v;
          const unsigned n =
              options.io_threads ? options.io_threads : std::max(1u, std::thread::hardware_concurrency());
          for (unsigned i = 0; i < n; ++i) v.push_back(std::make_unique<io_thread>());
          return v;
      }()),
      acceptor(threads.front()->context),
      accept_gate(threads.front()->context),
      drain_timer(threads.front()->context),
      delay_timer(threads.front()->context),
      signals(threads.front()->context),
      proxies(options.forwarded_allow_ips,
              options.forwarded_from == server_options::forwarded_header::forwarded) {
    // Check the deadlines a few times per shortest timeout; never less often than twice a second.
    const auto shortest =
        std::min({options.header_timeout, options.body_timeout, options.idle_timeout, options.write_timeout});
    sweep_interval = std::clamp<steady::duration>(shortest / 4, std::chrono::milliseconds(5),
                                                  std::chrono::milliseconds(500));
}

server::server(app& application, server_options options)
    : impl_(std::make_unique<impl>(application, std::move(options))) {
    auto& s = *impl_;
    if (s.options.log_format) application.logger().set_format(*s.options.log_format);
    if (s.options.log_level) application.logger().set_level(*s.options.log_level);
    application.start();  // builds, checks, runs the start-up hooks: a failing start never listens
    s.app_started = true;
    struct stop_unless_listening {
        impl& s;
        bool listening = false;
        ~stop_unless_listening() {
            if (!listening) {
                s.application.stop();
                s.app_started = false;
            }
        }
    } started_guard{s};
    raise_open_file_limit();

    error_code ec;
    const auto address =
        asio::ip::make_address(s.options.host == "localhost" ? "127.0.0.1" : s.options.host, ec);
    if (ec)
        throw std::invalid_argument("keel: cannot listen on host '" + s.options.host +
                                    "': not an IP address");
    // Binds and listens; returns the port bound.
    const auto listen = [&](tcp::acceptor& acceptor, unsigned short port, const char* what) {
        const tcp::endpoint endpoint(address, port);
        acceptor.open(endpoint.protocol());
        acceptor.set_option(asio::socket_base::reuse_address(true));
        acceptor.bind(endpoint, ec);
        if (ec) {
            throw std::runtime_error(std::string("keel: cannot ") + what + " on " + s.options.host + ':' +
                                     std::to_string(port) + ": " + ec.message());
        }
        acceptor.listen(asio::socket_base::max_listen_connections);
        return acceptor.local_endpoint().port();
    };
    if (s.options.tls_certificate_file.empty() != s.options.tls_key_file.empty())
        throw std::invalid_argument("keel: TLS needs both tls_certificate_file and tls_key_file");
    if (s.options.tls_port && s.options.tls_certificate_file.empty())
        throw std::invalid_argument("keel: tls_port is set, but no tls_certificate_file and tls_key_file");
    if (!s.options.tls_certificate_file.empty()) {
        s.tls = std::make_unique<detail::tls_certificates>(s.options.tls_certificate_file,
                                                           s.options.tls_key_file, s.log);
    }
    s.bound_port = listen(s.acceptor, s.options.port, "listen");
    if (s.tls) {
        if (s.options.tls_port) {
            s.tls_bound_port = listen(s.tls_acceptor.emplace(s.threads.front()->context), *s.options.tls_port,
                                      "listen for HTTPS");
        } else {
            s.tls_bound_port = s.bound_port;
        }
    }
    if (s.options.metrics_port) {
        s.metrics_bound_port = listen(s.metrics_acceptor.emplace(s.threads.front()->context),
                                      *s.options.metrics_port, "serve metrics");
        application.metrics().start_recording();
    }
    const unsigned concurrency = s.options.worker_concurrency
                                     ? s.options.worker_concurrency
                                     : std::max(4u, 2 * std::thread::hardware_concurrency());
    s.workers = std::make_unique<detail::worker_pool>(
        concurrency, s.options.worker_threads ? s.options.worker_threads : 64, s.options.worker_queue_limit);
    if (application.metrics().recording()) s.http_metrics = &detail::http_metrics_of(application.metrics());
    s.metrics_collector = application.metrics().add_collector(
        [&s](std::vector<prometheus::MetricFamily>& out) { s.collect(out); });
    started_guard.listening = true;
}

server::~server() {
    stop();
    std::unique_lock lock(impl_->run_mutex);
    impl_->run_done.wait(lock, [this] { return !impl_->running; });
    impl_->application.metrics().remove_collector(impl_->metrics_collector);
    if (impl_->app_started) impl_->application.stop();  // never ran
}

unsigned short server::port() const noexcept {
    return impl_->bound_port;
}

unsigned short server::metrics_port() const noexcept {
    return impl_->metrics_bound_port;
}

unsigned short server::tls_port() const noexcept {
    return impl_->tls_bound_port;
}

void server::stop() noexcept {
    if (impl_->shutdown_requested.exchange(true)) return;
    try {
        asio::post(impl_->threads.front()->context, [s = impl_.get()] { s->request_shutdown(); });
    } catch (...) {
        // Out of memory while posting: the process is going down anyway.
    }
}

void server::run() {
    auto& s = *impl_;
    {
        std::lock_guard lock(s.run_mutex);
        if (s.running) throw std::logic_error("keel: server::run() is already running");
        s.running = true;
    }
    const auto run_thread = [&s](io_thread& thread) {
        detail::bind_io_thread(s.workers.get(), &thread);
        const detail::loop_binding loop(&thread.context);  // where awaited sessions wait
        for (;;) {
            try {
                thread.context.run();
                break;
            } catch (const std::exception& e) {
                s.log.error(std::string("keel: error on an I/O thread: ") + e.what());
            }
        }
        detail::bind_io_thread(nullptr, nullptr);
    };

    if (s.options.handle_signals) s.watch_signals();
    s.start_accepting();
    for (auto& thread : s.threads) s.sweep(*thread);
    const bool main_is_tls = s.tls && !s.tls_acceptor;
    s.log.info(std::string("keel: listening on ") + (main_is_tls ? "https://" : "http://") + s.options.host +
               ':' + std::to_string(s.bound_port) + " (" + std::to_string(s.threads.size()) +
               " I/O threads)");
    if (s.tls_acceptor)
        s.log.info("keel: listening on https://" + s.options.host + ':' + std::to_string(s.tls_bound_port));
    if (s.metrics_acceptor) {
        s.log.info("keel: metrics on http://" + s.options.host + ':' + std::to_string(s.metrics_bound_port) +
                   s.options.metrics_path);
    }

    std::vector<std::thread> others;
    for (std::size_t i = 1; i < s.threads.size(); ++i)
        others.emplace_back(run_thread, std::ref(*s.threads[i]));
    run_thread(*s.threads.front());
    for (auto& t : others) t.join();
    // A scrape from elsewhere (app.metrics().page()) must not read the pool being destroyed.
    s.application.metrics().remove_collector(s.metrics_collector);
    s.workers.reset();     // joins the workers; every job has resumed its connection by now
    s.application.stop();  // the lifespan's shut-down: hooks, then app services (the engine) newest first
    s.app_started = false;
    s.log.info("keel: stopped");
    {
        std::lock_guard lock(s.run_mutex);
        s.running = false;
    }
    s.run_done.notify_all();
}

void server::impl::start_accepting() {
    asio::post(threads.front()->context, [this] {
        const auto report = [this](const std::exception_ptr& error) {
            if (!error) return;
            try {
                std::rethrow_exception(error);
            } catch (const std::exception& e) {
                log.error(std::string("keel: the acceptor stopped: ") + e.what());
            }
        };
        detail::start_detached(accept_loop(acceptor, false, tls && !tls_acceptor), report);
        if (tls_acceptor) detail::start_detached(accept_loop(*tls_acceptor, false, true), report);
        if (metrics_acceptor) detail::start_detached(accept_loop(*metrics_acceptor, true, false), report);
    });
}

// The families only the server knows: its connections and its worker pool.
void server::impl::collect(std::vector<prometheus::MetricFamily>& out) const {
    using type = prometheus::MetricType;
    detail::add_single(out, "keel_http_connections_open", "Client connections open", type::Gauge,
                       static_cast<double>(open_connections.load()));
    if (!workers) return;
    const auto w = workers->stats();
    detail::add_single(out, "keel_worker_threads", "Worker threads started for blocking handlers",
                       type::Gauge, static_cast<double>(w.threads));
    detail::add_single(out, "keel_worker_allowed", "Blocking handlers that may run at once now", type::Gauge,
                       w.allowed);
    detail::add_single(out, "keel_worker_busy", "Blocking handlers running", type::Gauge, w.busy);
    detail::add_single(out, "keel_worker_queued", "Blocking handlers waiting for a worker", type::Gauge,
                       static_cast<double>(w.queued));
    detail::add_single(out, "keel_worker_refused_total",
                       "Blocking handlers refused because the queue was full (503)", type::Counter,
                       static_cast<double>(w.refused));
}

task<void> server::impl::accept_loop(tcp::acceptor& from, bool metrics_only, bool use_tls) {
    std::size_t next_thread = 0;
    while (!stopping.load()) {
        if (open_connections.load() >= options.max_connections) {
            // Leave new connections in the kernel's backlog until one closes.
            accept_gate.expires_at(steady::time_point::max());
            co_await async_io([&](auto handler) { accept_gate.async_wait(std::move(handler)); });
            continue;
        }
        auto& thread = *threads[next_thread++ % threads.size()];
        tcp::socket socket(thread.context);
        const auto accepted =
            co_await async_io([&](auto handler) { from.async_accept(socket, std::move(handler)); });
        if (accepted.ec) {
            if (stopping.load() || accepted.ec == asio::error::operation_aborted) break;
            log.warning("keel: accept failed: " + accepted.ec.message());
            if (accepted.ec == asio::error::no_descriptors || accepted.ec == asio::error::no_buffer_space) {
                accept_gate.expires_after(std::chrono::milliseconds(50));  // let some connections close
                co_await async_io([&](auto handler) { accept_gate.async_wait(std::move(handler)); });
            }
            continue;
        }
        ++open_connections;
        auto context = use_tls ? tls->current() : nullptr;  // a renewed certificate from now on
        asio::post(thread.context, [this, &thread, metrics_only, socket = std::move(socket),
                                    context = std::move(context)]() mutable {
            detail::start_detached(serve(thread, std::move(socket), metrics_only, std::move(context)),
                                   [this](const std::exception_ptr& error) {
                                       if (error) {
                                           try {
                                               std::rethrow_exception(error);
                                           } catch (const std::exception& e) {
                                               log.error(std::string("keel: connection failed: ") + e.what());
                                           } catch (...) {
                                               log.error("keel: connection failed");
                                           }
                                       }
                                       connection_closed();
                                   });
        });
    }
}

void server::impl::connection_closed() {
    const auto before = open_connections.fetch_sub(1);
    if (before >= options.max_connections || stopping.load()) {
        asio::post(threads.front()->context, [this] {
            accept_gate.cancel();
            finish_if_drained();
        });
    }
}

void server::impl::sweep(io_thread& thread) {
    thread.sweeper.expires_after(sweep_interval);
    thread.sweeper.async_wait([this, &thread](error_code ec) {
        // A completion already queued when cancel() ran still arrives without an error.
        if (ec || thread.stopped) return;
        const auto now = steady::now();
        for (auto* conn : thread.connections) {
            if (now >= conn->deadline) {
                conn->timed_out = true;
                conn->close();
            } else if (!conn->idle && conn->hangup && conn->hangup->armed() && !conn->hangup_reported &&
                       client_gone(conn->socket.native_handle())) {
                conn->hangup_reported = true;
                cancel_for_hangup(*workers, conn->hangup);
            }
        }
        sweep(thread);
    });
}

void server::impl::watch_signals() {
    signals.add(SIGINT);
    signals.add(SIGTERM);
    signals.async_wait([this](error_code ec, int signal_number) {
        if (ec) return;
        log.info("keel: signal " + std::to_string(signal_number) + ", shutting down (again to exit at once)");
        signals.async_wait([this](error_code again, int second) {
            if (again) return;
            log.warning("keel: second signal, exiting now");
            std::_Exit(128 + second);
        });
        if (!shutdown_requested.exchange(true))
            request_shutdown();  // after re-arming: a drained
                                 // server cancels the wait above
    });
    if (tls) {
        reload_signals.emplace(threads.front()->context, SIGHUP);
        watch_reload_signal();
    }
}

void server::impl::watch_reload_signal() {
    reload_signals->async_wait([this](error_code ec, int) {
        if (ec) return;
        log.info("keel: SIGHUP, reloading the TLS certificate");
        tls->reload();  // two small local files: a moment, on the acceptor's thread, once per signal
        watch_reload_signal();
    });
}

// The app reports itself draining (/readyz: 503) at once; the listener stays open for
// shutdown_delay, while a load balancer notices, and then the drain begins.
void server::impl::request_shutdown() {
    application.set_draining(true);
    if (options.shutdown_delay <= std::chrono::milliseconds(0)) {
        stopping.store(true);
        begin_shutdown();
        return;
    }
    log.info("keel: draining: readiness answers 503; the listener closes in " +
             std::to_string(options.shutdown_delay.count()) + " ms");
    delay_timer.expires_after(options.shutdown_delay);
    delay_timer.async_wait([this](error_code) {
        stopping.store(true);
        begin_shutdown();
    });
}

void server::impl::begin_shutdown() {
    if (acceptor.is_open()) {
        error_code ignored;
        acceptor.close(ignored);
        if (metrics_acceptor) metrics_acceptor->close(ignored);
        if (tls_acceptor) tls_acceptor->close(ignored);
    } else if (finished) {
        return;
    }
    accept_gate.cancel();
    for (auto& thread : threads) {
        asio::post(thread->context, [t = thread.get()] {
            for (auto* conn : t->connections) {
                if (conn->idle) conn->close();
            }
        });
    }
    drain_timer.expires_after(options.drain_timeout);
    drain_timer.async_wait([this](error_code ec) {
        if (ec || finished) return;
        log.warning("keel: drain deadline passed; closing " + std::to_string(open_connections.load()) +
                    " connection(s)");
        for (auto& thread : threads) {
            asio::post(thread->context, [t = thread.get()] {
                for (auto* conn : t->connections) conn->close();
            });
        }
        // A handler that never returns must not keep the process up forever.
        drain_timer.expires_after(std::chrono::seconds(5));
        drain_timer.async_wait([this](error_code again) {
            if (again || finished) return;
            log.error("keel: handlers still running 5 s after the drain deadline; stopping anyway");
            for (auto& thread : threads) thread->context.stop();
        });
    });
    finish_if_drained();
}

void server::impl::finish_if_drained() {
    if (!stopping.load() || finished || open_connections.load() != 0) return;
    finished = true;
    drain_timer.cancel();
    error_code ignored;
    signals.cancel(ignored);
    if (reload_signals) reload_signals->cancel(ignored);
    for (auto& thread : threads) {
        asio::post(thread->context, [t = thread.get()] {
            t->stopped = true;
            t->sweeper.cancel();
            t->keep_running.reset();
        });
    }
}

// One connection, request after request. Returns when the connection is closed.
task<void> server::impl::serve(io_thread& thread, tcp::socket socket, bool metrics_only,
                               std::shared_ptr<ssl::context> tls_context) {
    connection conn(std::move(socket));
    thread.connections.insert(&conn);
    struct unregister {
        io_thread& thread;
        connection& conn;
        ~unregister() {
            thread.connections.erase(&conn);
            conn.close();
        }
    } guard{thread, conn};

    error_code ec;
    conn.socket.set_option(tcp::no_delay(true), ec);
    if (!tls_context) {
        co_await serve_requests(conn, conn.socket, metrics_only);
        co_return;
    }
    // TLS on the connection's socket. A handshake that never finishes is cut off like a header
    // that never ends; anything but TLS fails it, and the connection closes unanswered.
    tls_stream stream(conn.socket, *tls_context);
    conn.deadline = steady::now() + options.header_timeout;
    const auto shaken = co_await async_io(
        [&](auto handler) { stream.async_handshake(ssl::stream_base::server, std::move(handler)); });
    if (shaken.ec || !conn.socket.is_open()) co_return;
    co_await serve_requests(conn, stream, metrics_only);
}

template <class Stream>
task<void> server::impl::serve_requests(connection& conn, Stream& stream, bool metrics_only) {
    constexpr bool plain = std::is_same_v<Stream, tcp::socket>;
    error_code ec;
    // Durations are reported (access log, metrics) from the first byte's arrival; with neither,
    // no clock is read for them. Arrival stamps come with plain reads only.
    const bool timed = !metrics_only && (options.access_log || http_metrics != nullptr);
    const bool stamped = plain && timed && detail::stamp_arrivals(conn.socket.native_handle());
    std::string remote;
    std::string client;  // the peer's address, unless a trusted proxy names another per request
    asio::ip::address peer_address;
    bool from_proxy = false;
    if (const auto peer = conn.socket.remote_endpoint(ec); !ec) {
        peer_address = detail::unmapped(peer.address());
        remote = peer.address().to_string() + ':' + std::to_string(peer.port());
        client = peer_address.to_string();
        from_proxy = !proxies.empty() && proxies.trusts(peer_address);
    }
    if (stopping.load()) co_return;

    beast::flat_buffer buffer;
    std::string out;
    bool first = true;
    for (;;) {
        // Between requests: wait for the first byte of the next one.
        conn.idle = true;
        // Of a request already in the buffer (pipelined): now. Read only when something reports it.
        auto first_byte = timed ? steady::now() : steady::time_point{};
        if (buffer.size() == 0) {
            if (stopping.load()) co_return;
            conn.deadline = steady::now() + (first ? options.header_timeout : options.idle_timeout);
            if (stamped) {
                // Read the bytes with the time the first one arrived (see stamped_receive.hpp).
                detail::received got;
                const auto space = buffer.prepare(4096);
                const auto read = co_await async_io([&](auto handler) {
                    detail::async_receive_stamped(conn.socket, space.data(), space.size(), got,
                                                  std::move(handler));
                });
                // Closed by the sweeper (idle timeout) or on shutdown; by the peer; reset.
                if (read.ec || got.bytes <= 0) co_return;
                buffer.commit(static_cast<std::size_t>(got.bytes));
                first_byte = got.arrival.value_or(steady::now());
            } else {
                const auto got = co_await async_io(
                    [&](auto handler) { stream.async_read_some(buffer.prepare(4096), std::move(handler)); });
                if (got.ec) co_return;  // closed, reset, idle timeout, or shut down
                buffer.commit(got.bytes);
                if (timed) first_byte = steady::now();
            }
        }
        // Bytes read just before a shutdown (or the sweeper) closed the idle connection: closed
        // means not served, or the handler would run for an answer that can never be written.
        if (!conn.socket.is_open()) co_return;
        conn.idle = false;
        first = false;

        // The request line and header fields, within the header timeout and size limit.
        detail::request_parser parser;
        parser.header_limit(
            static_cast<std::uint32_t>(std::min<std::size_t>(options.max_header_bytes, UINT32_MAX)));
        parser.body_limit(options.max_body_bytes);
        conn.deadline = steady::now() + options.header_timeout;
        const auto header = co_await async_io(
            [&](auto handler) { http::async_read_header(stream, buffer, parser, std::move(handler)); });
        if (header.ec) {
            if (conn.timed_out) count_refusal(detail::refusal::header_timeout);
            if (conn.timed_out || header.ec == asio::error::operation_aborted ||
                header.ec == http::error::end_of_stream || header.ec == http::error::partial_message ||
                header.ec == asio::error::eof || header.ec == asio::error::connection_reset) {
                co_return;  // the client went away or was too slow: nobody to answer
            }
            if (header.ec == http::error::header_limit) {
                co_await refuse(conn, stream, detail::refusal::header_too_large,
                                status::request_header_fields_too_large, "request header too large");
            } else if (header.ec == http::error::body_limit) {
                co_await refuse(conn, stream, detail::refusal::body_too_large, status::payload_too_large,
                                "request body too large");
            } else if (header.ec == http::error::bad_version &&
                       detail::names_another_version(
                           std::string_view(static_cast<const char*>(buffer.data().data()), buffer.size()))) {
                co_await refuse(conn, stream, detail::refusal::unsupported_version,
                                status::http_version_not_supported, "HTTP version not supported");
            } else {
                log.debug("keel: malformed request from " + remote + ": " + header.ec.message());
                co_await refuse(conn, stream, detail::refusal::malformed, status::bad_request,
                                "malformed request");
            }
            co_return;
        }
        if (const auto problem = detail::check_framing(parser)) {
            co_await refuse(conn, stream, detail::refusal::malformed, problem->code, problem->detail);
            co_return;
        }

        // Expect: 100-continue: tell the client to send the body we are willing to read.
        if (const auto expect = parser.get()[http::field::expect]; !expect.empty()) {
            if (!iequals(expect, "100-continue")) {
                co_await refuse(conn, stream, detail::refusal::unsupported_expect, status::expectation_failed,
                                "unsupported Expect");
                co_return;
            }
            if (!parser.is_done() && parser.get().version() == 11) {
                static constexpr std::string_view go_on = "HTTP/1.1 100 Continue\r\n\r\n";
                conn.deadline = steady::now() + options.write_timeout;
                const auto wrote = co_await async_io([&](auto handler) {
                    asio::async_write(stream, asio::buffer(go_on.data(), go_on.size()), std::move(handler));
                });
                if (wrote.ec) co_return;
            }
        }

        // The body, chunked or not, within the body timeout and size limit.
        if (!parser.is_done()) {
            conn.deadline = steady::now() + options.body_timeout;
            const auto body = co_await async_io(
                [&](auto handler) { http::async_read(stream, buffer, parser, std::move(handler)); });
            if (body.ec) {
                if (conn.timed_out) count_refusal(detail::refusal::body_timeout);
                if (conn.timed_out || body.ec == asio::error::operation_aborted ||
                    body.ec == asio::error::eof || body.ec == http::error::partial_message ||
                    body.ec == asio::error::connection_reset) {
                    co_return;
                }
                if (body.ec == http::error::body_limit) {
                    co_await refuse(conn, stream, detail::refusal::body_too_large, status::payload_too_large,
                                    "request body too large");
                } else {
                    co_await refuse(conn, stream, detail::refusal::malformed, status::bad_request,
                                    "malformed request body");
                }
                co_return;
            }
        }

        // The app: middleware, routing, the handler. Its task never throws.
        conn.deadline = steady::time_point::max();
        request req = detail::to_request(parser.release(), remote);
        req.set_secure(!plain);
        if (from_proxy) {
            proxies.identify_client(req, peer_address);
        } else {
            req.set_client_address(client);
        }
        if (!metrics_only) {
            if (!conn.hangup) conn.hangup = std::make_shared<detail::hangup_signal>();
            conn.hangup_reported = false;
            req.set_hangup(conn.hangup);
        }
        const auto started = timed ? first_byte : steady::now();
        req.set_started(started);
        if (options.request_timeout.count() > 0) req.set_deadline(started + options.request_timeout);
        const bool counted = http_metrics != nullptr && !metrics_only;
        if (counted) http_metrics->started();
        response res;
        if (metrics_only) {
            res = metrics_page(req);
        } else {
            try {
                res = co_await application.handle(req);
            } catch (const std::exception& e) {
                request_logger(log, req).error(
                    std::string("keel: request failed outside the app's error handling: ") + e.what());
                res = detail::framing_error(status::internal_server_error, "Internal Server Error");
            }
        }
        detail::echo_request_id(req, res);

        const bool keep_alive = req.keep_alive() && !stopping.load();
        out.clear();
        detail::write_response(res,
                               {.server_header = options.server_header,
                                .keep_alive = keep_alive,
                                .http10 = req.version() == 10,
                                .head = req.method() == method::head},
                               out);
        conn.deadline = steady::now() + options.write_timeout;
        const auto wrote = co_await async_io(
            [&](auto handler) { asio::async_write(stream, asio::buffer(out), std::move(handler)); });
        // Both durations run from the request's first byte read to its answer's last byte written.
        const auto took = timed ? steady::now() - first_byte : steady::duration{};
        if (counted) {
            http_metrics->finished({.route = req.route_index() == request::no_route
                                                 ? http_metrics->unmatched(req.method())
                                                 : req.route_index(),
                                    .method = req.method(),
                                    .status = to_int(res.status()),
                                    .nanoseconds = static_cast<std::uint64_t>(
                                        std::chrono::duration_cast<std::chrono::nanoseconds>(took).count()),
                                    .request_bytes = req.body().size(),
                                    .response_bytes = res.body().size()});
        }
        if (options.access_log && !metrics_only) {
            detail::log_access(log, req, to_int(res.status()), res.body().size(), took);
        }
        if (wrote.ec || !keep_alive) {
            if (!wrote.ec) co_await end_writing(conn, stream);
            co_return;
        }
    }
}

// The app's answer; on the metrics listener, the Prometheus page or a 404.
// What the metrics listener answers: the page, or a 404.
response server::impl::metrics_page(const request& req) const {
    const bool page =
        (req.method() == method::get || req.method() == method::head) && req.path() == options.metrics_path;
    if (!page) return detail::framing_error(status::not_found, "Not Found");
    return response(status::ok, application.metrics().page(), std::string(detail::metrics_content_type));
}

void server::impl::count_refusal(detail::refusal cause) const noexcept {
    if (http_metrics) http_metrics->refused(cause);
}

template <class Stream>
task<void> server::impl::refuse(connection& conn, Stream& stream, detail::refusal cause, status code,
                                std::string_view why) {
    count_refusal(cause);
    co_await answer_and_close(conn, stream, detail::framing_error(code, why));
}

// Answers a request that cannot be served (bad framing, too large), then closes the connection
// without cutting off the answer: the unread rest of the request is drained for a moment, so
// the kernel does not reset the connection under the client's feet.
template <class Stream>
task<void> server::impl::answer_and_close(connection& conn, Stream& stream, const response& res) {
    std::string out;
    detail::write_response(res, {.server_header = options.server_header, .keep_alive = false}, out);
    conn.deadline = steady::now() + options.write_timeout;
    const auto wrote = co_await async_io(
        [&](auto handler) { asio::async_write(stream, asio::buffer(out), std::move(handler)); });
    if (wrote.ec) co_return;
    co_await end_writing(conn, stream);
    conn.deadline = steady::now() + std::chrono::seconds(1);
    std::array<char, 4096> sink{};
    std::size_t drained = 0;
    while (drained < std::size_t{256} * 1024) {
        const auto got = co_await async_io(
            [&](auto handler) { conn.socket.async_read_some(asio::buffer(sink), std::move(handler)); });
        if (got.ec) break;
        drained += got.bytes;
    }
}

// The last answer is out: tell the client no more will come. Over TLS that is a close_notify
// (waited on for a second at most, since what the peer answers does not matter); then, as on
// plain TCP, a FIN.
template <class Stream>
task<void> server::impl::end_writing(connection& conn, Stream& stream) {
    if constexpr (!std::is_same_v<Stream, tcp::socket>) {
        conn.deadline = steady::now() + std::chrono::seconds(1);
        co_await async_io([&](auto handler) { stream.async_shutdown(std::move(handler)); });
    }
    error_code ignored;
    conn.socket.shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace keel
