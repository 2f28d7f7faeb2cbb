#include "db/pq_async.hpp"

#include <keel/database_error.hpp>

#include <boost/asio/io_context.hpp>

#include <fcntl.h>
#include <openssl/ssl.h>
#include <unistd.h>
#include <algorithm>
#include <mutex>
#include <vector>

namespace keel::detail::pq {

// The watches registered with one loop, shared by the loop's service and the watches, so that
// whichever goes first leaves the other something to lock.
struct loop_watches {
    std::mutex mutex;
    bool shut_down = false;
    std::vector<socket_watch*> watches;

    // The loop is being destroyed: every watch lets go of its descriptor now, while the
    // reactor still exists (its services are destroyed right after).
    void shut() noexcept {
        std::lock_guard lock(mutex);
        shut_down = true;
        for (auto* w : watches) w->let_go();
        watches.clear();
    }
};

namespace {

// Asio's hook into a loop's life: its shutdown() runs when the io_context is destroyed.
class watch_service final : public boost::asio::execution_context::service {
public:
    using key_type = watch_service;
    static boost::asio::execution_context::id id;

    explicit watch_service(boost::asio::execution_context& context)
        : service(context), watches(std::make_shared<loop_watches>()) {}
    void shutdown() override { watches->shut(); }

    std::shared_ptr<loop_watches> watches;
};
boost::asio::execution_context::id watch_service::id;

}  // namespace

socket_watch::socket_watch(boost::asio::io_context& loop, PGconn* c) : loop_(&loop) {
    const int fd = PQsocket(c);
    if (fd < 0) throw connection_lost("keel: the database connection has no socket", "08006");
    // The descriptor first: its reactor then exists before the watch service, which is thus
    // shut down before it, while deregistering still means something.
    descriptor_.emplace(loop);
    loop_watches_ = boost::asio::use_service<watch_service>(loop).watches;
    // A duplicate of libpq's descriptor, ours to register and close: libpq closes its own when
    // a read fails, and its number may then belong to another socket by the time this watch
    // deregisters it (which would silence that socket in the loop).
    const int own = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (own < 0) throw connection_lost("keel: cannot watch the database connection's socket", "08006");
    std::lock_guard lock(loop_watches_->mutex);
    boost::system::error_code ec;
    descriptor_->assign(own, ec);
    if (ec) {
        ::close(own);
        descriptor_.reset();
        throw connection_lost("keel: cannot watch the database connection's socket: " + ec.message(),
                              "08006");
    }
    loop_watches_->watches.push_back(this);
}

socket_watch::~socket_watch() {
    std::lock_guard lock(loop_watches_->mutex);
    if (loop_watches_->shut_down) return;  // the loop let go of it already
    auto& all = loop_watches_->watches;
    if (const auto it = std::find(all.begin(), all.end(), this); it != all.end()) {
        *it = all.back();
        all.pop_back();
    }
    let_go();
}

void socket_watch::let_go() noexcept {
    if (!descriptor_) return;
    boost::system::error_code ignored;
    descriptor_->close(ignored);  // the duplicate only: libpq's descriptor stays open
    descriptor_.reset();
}

bool socket_watch::watches_on(const boost::asio::io_context& loop) const {
    std::lock_guard lock(loop_watches_->mutex);
    return !loop_watches_->shut_down && loop_ == &loop;
}

bool socket_watch::orphaned() const {
    std::lock_guard lock(loop_watches_->mutex);
    return loop_watches_->shut_down;
}

socket_watch& watch_on(std::vector<std::shared_ptr<socket_watch>>& kept, boost::asio::io_context& loop,
                       PGconn* c) {
    socket_watch* found = nullptr;
    for (const auto& w : kept) {
        if (w->watches_on(loop)) found = w.get();
    }
    if (!found) {
        std::erase_if(kept, [](const auto& w) { return w->orphaned(); });
        found = kept.emplace_back(std::make_shared<socket_watch>(loop, c)).get();
    }
    if (PQsetnonblocking(c, 1) != 0)
        throw connection_lost("keel: cannot make the database connection non-blocking", "08006");
    return *found;
}

void give_back_blocking(PGconn* c) noexcept {
    PQsetnonblocking(c, 0);  // the blocking session expects libpq's blocking mode
}

socket_watch::wait socket_watch::until_ready(bool or_writable) noexcept {
    return wait{this, or_writable, 0, false, {}};
}

void socket_watch::wait::await_suspend(std::coroutine_handle<> h) {
    resume = h;
    pending = or_writable ? 2 : 1;
    using boost::asio::posix::stream_descriptor;
    const auto done = [this](boost::system::error_code ec) {
        if (ec && ec != boost::asio::error::operation_aborted) failed = true;
        // The first wait to complete cancels the other; the coroutine resumes once both
        // handlers have run, so that none refers to it afterwards.
        if (--pending > 0) {
            boost::system::error_code ignored;
            watch->descriptor_->cancel(ignored);
            return;
        }
        resume.resume();
    };
    watch->descriptor_->async_wait(stream_descriptor::wait_read, done);
    if (or_writable) watch->descriptor_->async_wait(stream_descriptor::wait_write, done);
}

namespace {

[[noreturn]] void lost(PGconn* c, bool& broken) {
    broken = true;  // the pipeline's state is unknown: never hand this connection out again
    throw_error(c, nullptr, broken);
}

// Whether OpenSSL holds decrypted bytes libpq has not read yet: the socket then says nothing
// (the loop would wait for ever), so they are read without waiting. libpq's own waits ask the
// same of OpenSSL.
bool tls_bytes_pending(PGconn* c) noexcept {
    if (!PQsslInUse(c)) return false;
    auto* tls = static_cast<SSL*>(PQsslStruct(c, "OpenSSL"));
    return tls && SSL_pending(tls) > 0;
}

// The next result, once libpq can give it without blocking; null ends a statement's results.
// (A wait re-arms the descriptor with EPOLL_CTL_MOD, which reports bytes already waiting in the
// socket: what a read left behind is never missed.)
task<PGresult*> next_result(PGconn* c, socket_watch& socket, bool& broken) {
    while (PQisBusy(c)) {
        if (tls_bytes_pending(c)) {
            if (!PQconsumeInput(c)) lost(c, broken);
            continue;
        }
        // (co_await kept out of compound conditions: GCC 12 miscompiles some of them)
        const bool ready = co_await socket.until_ready(false);
        if (!ready || !PQconsumeInput(c)) lost(c, broken);
    }
    co_return PQgetResult(c);
}

bool send(PGconn* c, const step& s) {
    switch (s.what) {
        case step::kind::statement:
            return PQsendQueryParams(c, s.text, 0, nullptr, nullptr, nullptr, nullptr, 0) == 1;
        case step::kind::prepare:
            return PQsendPrepare(c, s.name, s.text, 0, nullptr) == 1;
        case step::kind::execute:
            return PQsendQueryPrepared(c, s.name, s.bound.count, s.bound.values, nullptr, nullptr, 0) == 1;
        case step::kind::unnamed:
            return PQsendQueryParams(c, s.text, s.bound.count, nullptr, s.bound.values, nullptr, nullptr,
                                     0) == 1;
    }
    return false;
}

}  // namespace

namespace {

// Flush until everything is out. While the server cannot take more, it may be waiting for us
// to read what it sent: read meanwhile, or both sides would wait for ever.
task<void> flush(PGconn* c, socket_watch& socket, bool& broken) {
    for (;;) {
        const int left = PQflush(c);
        if (left == 0) co_return;
        if (left < 0) lost(c, broken);
        const bool ready = co_await socket.until_ready(true);
        if (!ready || !PQconsumeInput(c)) lost(c, broken);
    }
}

}  // namespace

task<std::vector<result_ptr>> run_each(PGconn* c, socket_watch& socket, const std::string& sql,
                                       bool& broken) {
    if (PQsendQuery(c, sql.c_str()) != 1) lost(c, broken);
    co_await flush(c, socket, broken);
    std::vector<result_ptr> results;
    while (PGresult* r = co_await next_result(c, socket, broken)) results.emplace_back(r);
    if (results.empty()) lost(c, broken);
    co_return results;
}

task<result_ptr> run_simple(PGconn* c, socket_watch& socket, const std::string& sql, bool& broken) {
    auto results = co_await run_each(c, socket, sql, broken);
    for (auto& r : results) {
        if (!succeeded(r.get())) throw_error(c, r.get(), broken);  // the first failure
    }
    co_return std::move(results.back());
}

task<std::vector<result_ptr>> run_pipeline(PGconn* c, socket_watch& socket, std::span<const step> steps,
                                           bool& broken, pipeline_progress& progress) {
    pipeline_tally tally(steps.size(), progress);
    if (PQenterPipelineMode(c) != 1) lost(c, broken);
    bool sent = true;
    for (const auto& s : steps) sent = sent && send(c, s);
    if (!sent || PQpipelineSync(c) != 1) lost(c, broken);
    co_await flush(c, socket, broken);

    // One result per step, each followed by a null; then the sync's result.
    for (std::size_t i = 0; i < steps.size(); ++i) {
        result_ptr last;
        bool ended = false;  // the connection failed while this step's results were read
        try {
            for (;;) {
                PGresult* r = co_await next_result(c, socket, broken);
                if (!r) break;
                const auto status = PQresultStatus(r);
                keep_telling(last, r);  // (may free r)
                if (status == PGRES_COPY_IN || status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH) {
                    // libpq now expects COPY data, not results: the connection cannot go on.
                    broken = true;
                    throw database_error(
                        "keel: COPY is not supported by the awaited session; use a blocking session",
                        "0A000");
                }
            }
        } catch (const connection_lost&) {
            ended = true;  // what PostgreSQL said before it went tells more: tally.lost() throws that
        }
        if (ended && last) tally.take(std::move(last));
        if (ended || !last) tally.lost(c, broken);
        tally.take(std::move(last));
    }
    result_ptr sync;
    bool ended = false;
    try {
        sync.reset(co_await next_result(c, socket, broken));
    } catch (const connection_lost&) {
        ended = true;
    }
    if (ended || !sync || PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC || PQexitPipelineMode(c) != 1)
        tally.lost(c, broken);
    co_return tally.finish(c, broken);
}

}  // namespace keel::detail::pq
