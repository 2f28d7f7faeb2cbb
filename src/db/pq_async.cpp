#include "db/pq_async.hpp"

#include <keel/database_error.hpp>

#include <boost/asio/io_context.hpp>

namespace keel::detail::pq {

socket_watch::socket_watch(boost::asio::io_context& loop, PGconn* c) : descriptor_(loop), connection_(c) {
    const int fd = PQsocket(c);
    if (fd < 0) throw connection_lost("keel: the database connection has no socket", "08006");
    if (PQsetnonblocking(c, 1) != 0)
        throw connection_lost("keel: cannot make the database connection non-blocking", "08006");
    boost::system::error_code ec;
    descriptor_.assign(fd, ec);
    if (ec) {
        PQsetnonblocking(c, 0);
        throw connection_lost("keel: cannot watch the database connection's socket: " + ec.message(),
                              "08006");
    }
}

socket_watch::~socket_watch() {
    // Stop watching, never close: the descriptor is libpq's. The blocking session expects
    // libpq's blocking mode back.
    if (descriptor_.is_open()) descriptor_.release();
    PQsetnonblocking(connection_, 0);
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
            watch->descriptor_.cancel(ignored);
            return;
        }
        resume.resume();
    };
    watch->descriptor_.async_wait(stream_descriptor::wait_read, done);
    if (or_writable) watch->descriptor_.async_wait(stream_descriptor::wait_write, done);
}

namespace {

[[noreturn]] void lost(PGconn* c, bool& broken) {
    broken = true;  // the pipeline's state is unknown: never hand this connection out again
    throw_error(c, nullptr, broken);
}

// The next result, once libpq can give it without blocking; null ends a statement's results.
task<PGresult*> next_result(PGconn* c, socket_watch& socket, bool& broken) {
    while (PQisBusy(c)) {
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
    }
    return false;
}

}  // namespace

task<result_ptr> run_pipeline(PGconn* c, socket_watch& socket, std::span<const step> steps, bool& broken,
                              std::size_t& completed) {
    completed = 0;
    if (PQenterPipelineMode(c) != 1) lost(c, broken);
    bool sent = true;
    for (const auto& s : steps) sent = sent && send(c, s);
    if (!sent || PQpipelineSync(c) != 1) lost(c, broken);
    // Flush until everything is out. While the server cannot take more, it may be waiting
    // for us to read what it sent: read meanwhile, or both sides would wait for ever.
    for (;;) {
        const int left = PQflush(c);
        if (left == 0) break;
        if (left < 0) lost(c, broken);
        const bool ready = co_await socket.until_ready(true);
        if (!ready || !PQconsumeInput(c)) lost(c, broken);
    }

    // One result per step, each followed by a null; then the sync's result.
    result_ptr first_failure, last_result;
    bool all_ok = true;
    for (std::size_t i = 0; i < steps.size(); ++i) {
        result_ptr last;
        for (;;) {
            PGresult* r = co_await next_result(c, socket, broken);
            if (!r) break;
            last.reset(r);
        }
        if (!last) lost(c, broken);
        const bool ok = succeeded(last.get());
        all_ok = all_ok && ok;
        if (all_ok) completed = i + 1;
        if (!ok && !first_failure && PQresultStatus(last.get()) != PGRES_PIPELINE_ABORTED)
            first_failure = std::move(last);
        else if (i + 1 == steps.size())
            last_result = std::move(last);
    }
    result_ptr sync(co_await next_result(c, socket, broken));
    if (!sync || PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC || PQexitPipelineMode(c) != 1)
        lost(c, broken);
    if (first_failure) throw_error(c, first_failure.get(), broken);
    co_return last_result;
}

}  // namespace keel::detail::pq
