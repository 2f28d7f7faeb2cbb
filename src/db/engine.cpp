#include <keel/database_error.hpp>
#include <keel/engine.hpp>
#include <keel/pool_timeout.hpp>
#include <keel/setting.hpp>

#include <keel/detail/blocking.hpp>
#include <keel/offload.hpp>

#include "db/connection_url.hpp"
#include "db/database_counters.hpp"
#include "db/pooled_connection.hpp"
#include "db/pq.hpp"
#include "db/replica_set.hpp"
#include "db/session_origin.hpp"
#include "io/event_loop.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <optional>
#include <pqxx/pqxx>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

namespace keel {

using steady = std::chrono::steady_clock;

namespace {

// A NOTICE or WARNING the server sent (RAISE NOTICE, an implicit index, ...) goes to the log of
// whom the connection is checked out for, with the request's fields; outside a checkout, to the
// thread's. libpq calls this while it reads, on the thread that reads.
void log_notice(void* connection, const PGresult* notice) noexcept {
    try {
        const auto* c = static_cast<const detail::pooled_connection*>(connection);
        const auto field = [&](int code) {
            const char* value = PQresultErrorField(notice, code);
            return std::string_view(value ? value : "");
        };
        const auto severity = field(PG_DIAG_SEVERITY_NONLOCALIZED);
        const auto level = severity == "WARNING" ? log_level::warning
                           : severity == "DEBUG" ? log_level::debug
                                                 : log_level::info;
        const std::string message = "postgres: " + std::string(field(PG_DIAG_MESSAGE_PRIMARY));
        const log_field fields[] = {
            {"severity", severity}, {"sqlstate", field(PG_DIAG_SQLSTATE)}, {"backend_pid", c->backend_pid}};
        if (c->holder) {
            c->holder->report(level, message, fields);
        } else {
            detail::working_for::current_logger().write(level, message, {}, fields);
        }
    } catch (...) {
        // A notice that cannot be logged is dropped: it must not fail the statement.
    }
}

// `variable`, when set, as a number of milliseconds from `min` to `max`, into `out`.
void read_milliseconds(const char* variable, std::uint64_t min, std::uint64_t max,
                       std::chrono::milliseconds& out) {
    if (const char* v = std::getenv(variable); v && *v)
        out = std::chrono::milliseconds(parse_setting<std::uint64_t>(variable, v, min, max));
}

}  // namespace

engine_options engine_options::from_environment() {
    engine_options o;
    if (const char* v = std::getenv("DATABASE_URL"); v && *v) o.url = v;
    if (const char* v = std::getenv("POOL_SIZE"); v && *v)
        o.pool_size = parse_setting<std::size_t>("POOL_SIZE", v, 1, 10000);
    if (const char* v = std::getenv("POOL_MAX_OVERFLOW"); v && *v) {
        o.max_overflow = parse_setting<std::size_t>("POOL_MAX_OVERFLOW", v, 0, 10000);
    }
    read_milliseconds("POOL_TIMEOUT_MS", 1, 3'600'000, o.pool_timeout);
    read_milliseconds("KEEL_LEAK_THRESHOLD_MS", 0, 86'400'000, o.leak_threshold);
    read_milliseconds("KEEL_SLOW_STATEMENT_MS", 0, 86'400'000, o.slow_statement_threshold);
    if (const char* v = std::getenv("KEEL_DB_TRANSACTION_POOLER"); v && *v)
        o.transaction_pooler = parse_setting_flag("KEEL_DB_TRANSACTION_POOLER", v);
    if (const char* v = std::getenv("KEEL_STATEMENT_CACHE_SIZE"); v && *v)
        o.statement_cache_size = parse_setting<std::size_t>("KEEL_STATEMENT_CACHE_SIZE", v, 0, 100'000);
    if (const char* v = std::getenv("DATABASE_REPLICA_URLS"); v && *v) {
        // postgresql:// URIs separated by white space (a URI has none; a multi-host URI has commas).
        std::istringstream list(v);
        for (std::string url; list >> url;) o.replica_urls.push_back(url);
    }
    read_milliseconds("KEEL_MAX_REPLICA_LAG_MS", 1, 86'400'000, o.max_replica_lag);
    read_milliseconds("KEEL_READ_YOUR_WRITES_WAIT_MS", 0, 60'000, o.read_your_writes_wait);
    read_milliseconds("KEEL_REPLICA_CHECK_INTERVAL_MS", 10, 60'000, o.replica_check_interval);
    return o;
}

namespace detail {

namespace {

// A checked-out connection as a log line names it: copied under the pool's lock, logged after.
struct held_connection {
    session_origin holder;  // its `log` is where the line goes
    std::chrono::nanoseconds held;
    int backend_pid;

    void report(log_level level, std::string_view message, std::span<const log_field> more = {}) const {
        std::vector<log_field> fields = {{"held_ms", log_milliseconds(held)}, {"backend_pid", backend_pid}};
        fields.insert(fields.end(), more.begin(), more.end());
        holder.report(level, message, fields);
    }
};

}  // namespace

// The pool. Leases hold it by shared_ptr, so a lease outliving its engine still returns safely.
struct engine_state {
    struct waiter {
        std::condition_variable ready;              // a blocking checkout sleeps here
        void (*wake)(waiter&) noexcept = nullptr;   // an awaited one is resumed by this instead
        std::unique_ptr<pooled_connection> handed;  // a connection given to this waiter
        const session_origin* holder = nullptr;     // whom the connection will be for
        const void* affinity = nullptr;             // an awaited checkout's event loop
        bool passed_over = false;                   // a later waiter was served first once
        bool may_open = false;                      // or a free slot to open one in
        bool refused = false;                       // the engine is being disposed

        bool served() const noexcept { return handed || may_open || refused; }
        // Under the engine's lock, after one of the three was set.
        void notify() noexcept {
            if (wake) {
                wake(*this);
            } else {
                ready.notify_one();
            }
        }
    };

    explicit engine_state(engine_options o)
        : options(std::move(o)), url(connection_url(options.url, options)) {
        lent.reserve(capacity());  // lend() then never allocates under the lock
    }

    const engine_options options;
    const std::string url;
    mutable std::mutex mutex;
    std::condition_variable returned;  // dispose() waits on it for checked-out connections
    std::deque<std::unique_ptr<pooled_connection>> idle;
    std::deque<waiter*> waiters;  // first come, first served
    std::size_t open = 0;         // idle + checked out + being opened
    std::size_t checked_out = 0;
    std::size_t timeouts = 0;
    std::size_t created = 0;
    std::size_t discarded = 0;
    bool disposing = false;
    database_counters counters;
    std::vector<pooled_connection*> lent;  // the checked-out connections, for the leak watcher
    std::condition_variable watch;         // wakes the watcher when the engine is disposed
    steady::time_point last_timeout_report{};
    std::thread watcher;  // runs watch_for_leaks while the engine lives (joined by ~engine)

    std::size_t capacity() const noexcept { return options.pool_size + options.max_overflow; }

    std::unique_ptr<pooled_connection> open_connection() {
        auto c = std::make_unique<pooled_connection>();
        handle_capturing_connect::last_handle() = nullptr;
        try {
            c->connection = std::make_unique<pq_connection>(url);
        } catch (const pqxx::failure& e) {
            // Unreachable, refusing (starting up, shutting down, too many clients), bad
            // credentials: all "no database right now" for the request, a 503.
            throw connection_lost(pq::error_message(e.what()), "08001");
        }
        c->handle = handle_capturing_connect::last_handle();
        if (!c->handle) throw connection_lost("keel: libpqxx made no libpq connection", "08001");
        c->backend_pid = PQbackendPID(c->handle);
        c->cancel = std::shared_ptr<PGcancel>(PQgetCancel(c->handle), [](PGcancel* p) {
            if (p) PQfreeCancel(p);
        });
        PQsetNoticeReceiver(c->handle, &log_notice, c.get());
        c->created = c->last_used = steady::now();
        c->statements = statement_cache(options.transaction_pooler ? 0 : options.statement_cache_size);
        return c;
    }

    // Why an idle connection may not be handed out as it is, if it may not (called without
    // the lock).
    std::optional<discard_reason> unfit(pooled_connection& c) const {
        if (!c.is_open()) return discard_reason::broken;
        // A client's hang-up is cancelling a statement that ended meanwhile (hangup_signal holds
        // the PGcancel while it cancels): the cancel may still reach the backend, and must not
        // meet the next session's statement.
        if (c.cancel.use_count() > 1) return discard_reason::broken;
        if (options.pool_peek_before_use && !pq::still_connected(c.handle)) return discard_reason::broken;
        if (options.pool_recycle.count() >= 0 && steady::now() - c.created > options.pool_recycle)
            return discard_reason::recycled;
        if (options.pool_pre_ping) {
            PGresult* ping = PQexec(c.handle, "SELECT 1");
            const bool answered = PQresultStatus(ping) == PGRES_TUPLES_OK;
            PQclear(ping);
            if (!answered) return discard_reason::ping_failed;
        }
        return std::nullopt;
    }

    // Records that `c` is checked out for `holder`, from now (under the lock).
    void lend(pooled_connection& c, const session_origin* holder) {
        c.holder = holder;
        c.lent_at = steady::now();
        c.reported_held = false;
        lent.push_back(&c);
    }
    void unlend(pooled_connection& c) noexcept {
        if (const auto it = std::find(lent.begin(), lent.end(), &c); it != lent.end()) {
            *it = lent.back();
            lent.pop_back();
        }
        c.holder = nullptr;
    }

    // Under the lock. A bare engine::checkout has no holder: its line names no request.
    held_connection describe(const pooled_connection& c, steady::time_point now,
                             const logger& fallback) const {
        held_connection h{c.holder ? *c.holder : session_origin{}, now - c.lent_at, c.backend_pid};
        if (!h.holder.log) h.holder.log = &fallback;
        return h;
    }

    // The `n` connections held longest, longest first (under the lock).
    std::vector<held_connection> longest_held(std::size_t n, const logger& fallback) const {
        std::vector<const pooled_connection*> by_age(lent.begin(), lent.end());
        n = std::min(n, by_age.size());
        std::partial_sort(by_age.begin(), by_age.begin() + static_cast<std::ptrdiff_t>(n), by_age.end(),
                          [](const auto* a, const auto* b) { return a->lent_at < b->lent_at; });
        std::vector<held_connection> out;
        const auto now = steady::now();
        for (std::size_t i = 0; i < n; ++i) out.push_back(describe(*by_age[i], now, fallback));
        return out;
    }

    // The leak watcher: every quarter of leak_threshold (10 ms to 1 s), each connection checked
    // out longer than leak_threshold is logged and counted, once per checkout.
    void watch_for_leaks() {
        const auto threshold = std::chrono::duration_cast<steady::duration>(options.leak_threshold);
        const auto period = std::clamp<steady::duration>(threshold / 4, std::chrono::milliseconds(10),
                                                         std::chrono::seconds(1));
        std::unique_lock lock(mutex);
        while (!watch.wait_for(lock, period, [&] { return disposing; })) {
            const auto now = steady::now();
            std::vector<held_connection> overdue;
            for (auto* c : lent) {
                if (c->reported_held || now - c->lent_at < threshold) continue;
                c->reported_held = true;
                overdue.push_back(describe(*c, now, working_for::current_logger()));
            }
            if (overdue.empty()) continue;
            lock.unlock();
            for (const auto& h : overdue) {
                database_counters::count(counters.held_too_long);
                const log_field threshold_ms[] = {{"leak_threshold_ms", options.leak_threshold.count()}};
                h.report(log_level::warning, "keel: a database connection is held longer than leak_threshold",
                         threshold_ms);
            }
            lock.lock();
        }
    }

    // What a checkout can have at once (under the lock): an idle connection (in `out`, lent to
    // `holder`), a free slot to open one in (counted as open and checked out), or nothing yet.
    enum class grant { connection, slot, wait };
    // `affinity`: the caller's event loop (null for a blocking checkout), whose connections it
    // prefers (see pooled_connection::affinity).
    grant take(const session_origin* holder, std::unique_ptr<pooled_connection>& out,
               const void* affinity = nullptr) {
        if (disposing)
            throw pool_timeout(std::chrono::milliseconds(0), "the database engine is shutting down");
        if (waiters.empty() && !idle.empty()) {
            // The most recently returned first: under a load that needs fewer connections than
            // are open, the others age at the front and the surplus ones are closed there. An
            // awaited checkout takes one its loop watches already, when there is one.
            auto chosen = std::prev(idle.end());
            if (affinity && (*chosen)->affinity != affinity) {
                for (auto it = idle.rbegin(); it != idle.rend(); ++it) {
                    if ((*it)->affinity == affinity) {
                        chosen = std::prev(it.base());
                        break;
                    }
                }
            }
            out = std::move(*chosen);
            idle.erase(chosen);
            ++checked_out;
            lend(*out, holder);
            return grant::connection;
        }
        if (waiters.empty() && open < capacity()) {
            ++open;
            ++checked_out;
            return grant::slot;
        }
        if (waiters.size() >= options.max_waiting) {
            ++timeouts;
            throw pool_timeout(std::chrono::milliseconds(0),
                               "too many requests waiting for a database connection");
        }
        return grant::wait;
    }

    // What a served waiter got (under the lock).
    grant taken(waiter& me, std::unique_ptr<pooled_connection>& out) {
        if (me.refused)
            throw pool_timeout(std::chrono::milliseconds(0), "the database engine is shutting down");
        if (me.handed) {
            out = std::move(me.handed);  // counted as checked out by give_back
            return grant::connection;
        }
        ++open;
        ++checked_out;
        return grant::slot;
    }

    // A wait that ran out (under the lock): withdrawn and counted. Returns who holds the pool,
    // so that the timeout can be traced to its cause: at most once a second, as timeouts come
    // in floods.
    std::vector<held_connection> time_out(waiter& me) {
        waiters.erase(std::find(waiters.begin(), waiters.end(), &me));
        ++timeouts;
        if (steady::now() - last_timeout_report < std::chrono::seconds(1)) return {};
        last_timeout_report = steady::now();
        return longest_held(3, me.holder ? *me.holder->log : working_for::current_logger());
    }

    // Logs the holders time_out() named (without the lock); the exception to throw.
    static pool_timeout timed_out(const std::vector<held_connection>& longest, steady::time_point start) {
        const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - start);
        for (std::size_t i = 0; i < longest.size(); ++i) {
            const log_field more[] = {{"rank", i + 1}, {"waited_ms", waited.count()}};
            longest[i].report(log_level::warning, "keel: a checkout timed out while this connection was held",
                              more);
        }
        return pool_timeout(waited);
    }

    void record_wait(steady::time_point start) {
        const auto waited =
            std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now() - start).count();
        counters.checkout_wait.observe(database_counters::wait_bounds, static_cast<double>(waited) / 1e9,
                                       static_cast<std::uint64_t>(waited));
    }

    // Opens a connection in a slot take() or taken() granted (blocks: libpq connects), lent to
    // `holder`; on failure the slot goes to the next waiter (the server may be back by then).
    std::unique_ptr<pooled_connection> open_in_slot(const session_origin* holder, steady::time_point start) {
        try {
            auto fresh = open_connection();
            std::lock_guard lock(mutex);
            ++created;
            lend(*fresh, holder);
            record_wait(start);
            return fresh;
        } catch (...) {
            std::lock_guard lock(mutex);
            --open;
            --checked_out;
            pass_slot_to_waiter();
            throw;
        }
    }

    // A slot take() or taken() granted that will not be used after all.
    void give_back_slot() noexcept {
        std::lock_guard lock(mutex);
        --open;
        --checked_out;
        pass_slot_to_waiter();
    }

    // Closes a checked-out connection that unfit() refused.
    void discard(std::unique_ptr<pooled_connection> c, discard_reason why) {
        {
            std::lock_guard lock(mutex);
            unlend(*c);
            --checked_out;
            --open;
            ++discarded;
        }
        counters.discard(why);
        c.reset();  // closed after the lock is released
    }

    // Idle connections beyond pool_size that have not been used for overflow_linger are
    // closed (under the lock; `closing` is closed after it). Bursts of awaited sessions swing
    // the pool between all busy and many idle within milliseconds: closing surplus connections
    // at once would reopen them a moment later, each a new server process.
    void close_lingering_surplus(std::vector<std::unique_ptr<pooled_connection>>& closing) {
        const auto now = steady::now();
        while (idle.size() > options.pool_size && now - idle.front()->last_used >= options.overflow_linger) {
            closing.push_back(std::move(idle.front()));
            idle.pop_front();
            --open;
            counters.discard(discard_reason::surplus);
        }
    }

    // Who gets a returned connection (taken out of the queue): the first waiter, or the second
    // when it waits on the loop that watches the connection and the first does not — once per
    // waiter, so that nobody is passed over twice. Saves re-registering the socket with
    // another loop (five system calls) for the price of one place in the queue.
    waiter* next_waiter_for(const pooled_connection& c) {
        auto* first = waiters.front();
        if (c.affinity && first->affinity != c.affinity && !first->passed_over && waiters.size() > 1 &&
            waiters[1]->affinity == c.affinity) {
            first->passed_over = true;
            auto* second = waiters[1];
            waiters.erase(waiters.begin() + 1);
            return second;
        }
        waiters.pop_front();
        return first;
    }

    // A slot was freed (a connection closed): the first waiter may open a new one.
    void pass_slot_to_waiter() {
        if (waiters.empty()) return;
        auto* w = waiters.front();
        waiters.pop_front();
        w->may_open = true;
        w->notify();
    }

    void give_back(std::unique_ptr<pooled_connection> c, bool broken) {
        std::vector<std::unique_ptr<pooled_connection>> closing;  // closed after the lock is released
        std::optional<held_connection> late;                      // reported as held too long: now back
        {
            std::lock_guard lock(mutex);
            if (c->reported_held) late = describe(*c, steady::now(), working_for::current_logger());
            unlend(*c);
            --checked_out;
            c->last_used = steady::now();
            const bool unusable = broken || !c->is_open();
            if (unusable || disposing) {
                if (unusable) {
                    ++discarded;
                    counters.discard(discard_reason::broken);
                }
                --open;
                closing.push_back(std::move(c));
                if (!disposing) pass_slot_to_waiter();
            } else if (!waiters.empty()) {
                auto* w = next_waiter_for(*c);
                ++checked_out;
                lend(*c, w->holder);
                w->handed = std::move(c);
                w->notify();
            } else if (idle.size() >= options.pool_size && options.overflow_linger.count() <= 0) {
                // pool_size connections already wait idle: this one is surplus (SQLAlchemy's
                // QueuePool rule). Closing on "more open than pool_size" instead would churn
                // connections under steady load just above pool_size.
                --open;
                counters.discard(discard_reason::surplus);
                closing.push_back(std::move(c));
            } else {
                idle.push_back(std::move(c));
                close_lingering_surplus(closing);
            }
        }
        returned.notify_all();
        if (late)
            late->report(log_level::info,
                         "keel: a database connection held longer than leak_threshold came back");
    }
};

database_counters& counters_of(const engine& e) noexcept {
    return e.state_->counters;
}

const replica_set* replicas_of(const engine& e) noexcept {
    return e.replicas_.get();
}

}  // namespace detail

engine::lease::lease(std::shared_ptr<detail::engine_state> state,
                     std::unique_ptr<detail::pooled_connection> c) noexcept
    : state_(std::move(state)), connection_(std::move(c)) {}

engine::lease::lease(lease&& other) noexcept
    : state_(std::move(other.state_)), connection_(std::move(other.connection_)), broken_(other.broken_) {}

engine::lease& engine::lease::operator=(lease&& other) noexcept {
    if (this != &other) {
        if (connection_) state_->give_back(std::move(connection_), broken_);
        state_ = std::move(other.state_);
        connection_ = std::move(other.connection_);
        broken_ = other.broken_;
    }
    return *this;
}

engine::lease::~lease() {
    if (connection_) state_->give_back(std::move(connection_), broken_);
}

engine::engine(engine_options options) : state_(std::make_shared<detail::engine_state>(std::move(options))) {
    if (state_->options.pool_size == 0)
        throw std::invalid_argument("keel: engine pool_size must be at least 1");
    if (state_->options.leak_threshold.count() > 0)
        state_->watcher = std::thread([state = state_.get()] { state->watch_for_leaks(); });
    if (!state_->options.replica_urls.empty())
        replicas_ = std::make_unique<detail::replica_set>(state_->options);
}

engine::~engine() {
    dispose(std::chrono::milliseconds(0));
    replicas_.reset();  // stops the monitor, closes the replicas' pools
    if (state_->watcher.joinable()) state_->watcher.join();
}

engine::lease engine::checkout_for_read(std::chrono::milliseconds max_wait,
                                        const detail::session_origin* holder, std::uint64_t read_after,
                                        engine*& replica) {
    replica = nullptr;
    if (replicas_) {
        if (auto* chosen = replicas_->choose(read_after)) {
            try {
                auto got = chosen->checkout(max_wait, holder);
                replica = chosen;
                return got;
            } catch (const connection_lost& e) {
                replicas_->checkout_failed(chosen, e.what());  // and the primary serves this read
            }
        }
    }
    return checkout(max_wait, holder);
}

task<engine::lease> engine::checkout_for_read_async(std::chrono::milliseconds max_wait,
                                                    const detail::session_origin* holder,
                                                    std::uint64_t read_after, engine*& replica) {
    replica = nullptr;
    if (replicas_) {
        if (auto* chosen = co_await replicas_->choose_async(read_after)) {
            std::string why;
            try {
                auto got = co_await chosen->checkout_async(max_wait, holder);
                replica = chosen;
                co_return got;
            } catch (const connection_lost& e) {
                why = e.what();
            }
            replicas_->checkout_failed(chosen, why);  // and the primary serves this read
        }
    }
    co_return co_await checkout_async(max_wait, holder);
}

void engine::replica_failed(engine* replica, const std::string& why) noexcept {
    if (replicas_ && replica) replicas_->checkout_failed(replica, why);
}

const engine_options& engine::options() const noexcept {
    return state_->options;
}

engine::lease engine::checkout() {
    return checkout(state_->options.pool_timeout);
}

engine::lease engine::checkout(std::chrono::milliseconds max_wait) {
    return checkout(max_wait, nullptr);
}

engine::lease engine::checkout(std::chrono::milliseconds max_wait, const detail::session_origin* holder) {
    detail::require_blocking_allowed("keel::engine::checkout");
    auto& s = *state_;
    const auto start = steady::now();
    const auto deadline = start + std::min(max_wait, s.options.pool_timeout);
    for (;;) {
        std::unique_ptr<detail::pooled_connection> candidate;
        auto got = detail::engine_state::grant::wait;
        {
            std::unique_lock lock(s.mutex);
            got = s.take(holder, candidate);
            if (got == detail::engine_state::grant::wait) {
                detail::engine_state::waiter me;
                me.holder = holder;
                s.waiters.push_back(&me);
                if (!me.ready.wait_until(lock, deadline, [&] { return me.served(); })) {
                    auto longest = s.time_out(me);
                    lock.unlock();
                    throw s.timed_out(longest, start);
                }
                got = s.taken(me, candidate);
            }
        }
        if (got == detail::engine_state::grant::slot) return lease(state_, s.open_in_slot(holder, start));
        if (const auto why = s.unfit(*candidate)) {
            s.discard(std::move(candidate), *why);  // and try again: a new one, probably
            continue;
        }
        s.record_wait(start);
        return lease(state_, std::move(candidate));
    }
}

namespace detail {

// A checkout awaiting its turn: in the engine's queue like a blocking one, but resumed on its
// own event loop by whoever serves it (any thread), or by its timer when pool_timeout passes.
// Shared by the two, so that whichever comes second finds it alive and does nothing.
struct async_waiter final : engine_state::waiter, std::enable_shared_from_this<async_waiter> {
    async_waiter(boost::asio::io_context& loop, engine_state& s) : timer(loop), state(&s) { wake = &wake_up; }

    boost::asio::steady_timer timer;
    engine_state* state;
    std::coroutine_handle<> waiting;
    // The owner's thread only:
    bool resumed = false;
    bool timed_out = false;
    std::vector<held_connection> longest;  // when timed out: who held the pool

    // Under the engine's lock, on the thread that served it.
    static void wake_up(engine_state::waiter& w) noexcept {
        auto& self = static_cast<async_waiter&>(w);
        boost::asio::post(self.timer.get_executor(),
                          [keep = self.shared_from_this()] { keep->finish(false); });
    }

    // On the owner's thread: the timer ran out (or was cancelled), or it was served.
    void finish(bool from_timer) {
        if (resumed) return;
        if (from_timer) {
            std::lock_guard lock(state->mutex);
            if (!served()) {
                longest = state->time_out(*this);
                timed_out = true;
            }
        } else {
            timer.cancel();
        }
        resumed = true;
        waiting.resume();
    }

    // co_await turn(): resumes once served or timed out.
    auto turn() noexcept {
        struct awaiter {
            async_waiter* self;
            bool await_ready() const noexcept { return false; }
            void await_suspend(std::coroutine_handle<> h) const {
                self->waiting = h;
                self->timer.async_wait(
                    [keep = self->shared_from_this()](boost::system::error_code) { keep->finish(true); });
            }
            void await_resume() const noexcept {}
        };
        return awaiter{this};
    }

    // The awaiting coroutine was destroyed before it resumed: leave the queue, and give back
    // what was handed over meanwhile, so that an abandoned wait never holds a connection.
    void abandon() noexcept {
        if (resumed) return;
        resumed = true;
        std::unique_ptr<pooled_connection> handed_back;
        {
            std::lock_guard lock(state->mutex);
            if (const auto it = std::find(state->waiters.begin(), state->waiters.end(), this);
                it != state->waiters.end())
                state->waiters.erase(it);
            if (handed) handed_back = std::move(handed);
            if (may_open) state->pass_slot_to_waiter();
        }
        if (handed_back) state->give_back(std::move(handed_back), false);
        timer.cancel();
    }
};

}  // namespace detail

task<engine::lease> engine::checkout_async(std::chrono::milliseconds max_wait,
                                           const detail::session_origin* holder) {
    auto* loop = detail::this_thread_loop();
    if (!loop) {
        throw std::logic_error(
            "keel: an awaited checkout needs an event loop: await it in a coroutine handler, or run it "
            "with keel::sync_wait");
    }
    auto& s = *state_;
    const auto start = steady::now();
    const auto deadline = start + std::min(max_wait, s.options.pool_timeout);
    for (;;) {
        std::unique_ptr<detail::pooled_connection> candidate;
        auto got = detail::engine_state::grant::wait;
        std::shared_ptr<detail::async_waiter> me;
        {
            std::lock_guard lock(s.mutex);
            got = s.take(holder, candidate, loop);
            if (got == detail::engine_state::grant::wait) {
                me = std::make_shared<detail::async_waiter>(*loop, s);
                me->holder = holder;
                me->affinity = loop;
                me->timer.expires_at(deadline);
                s.waiters.push_back(me.get());
            }
        }
        if (me) {
            struct withdraw_if_abandoned {
                detail::async_waiter& w;
                ~withdraw_if_abandoned() { w.abandon(); }
            } guard{*me};
            co_await me->turn();
            if (me->timed_out) throw s.timed_out(me->longest, start);
            std::lock_guard lock(s.mutex);
            got = s.taken(*me, candidate);
        }
        if (got == detail::engine_state::grant::slot) {
            // Connecting blocks in libpq: on the worker pool, never on this thread.
            bool ran = false;  // open_in_slot gives the slot back itself when it fails
            std::unique_ptr<detail::pooled_connection> fresh;
            std::exception_ptr failed;
            try {
                fresh = co_await offload([&] {
                    ran = true;
                    return s.open_in_slot(holder, start);
                });
            } catch (...) {
                failed = std::current_exception();
            }
            if (failed) {
                if (!ran) s.give_back_slot();  // the worker pool refused the job
                std::rethrow_exception(failed);
            }
            co_return lease(state_, std::move(fresh));
        }
        std::optional<detail::discard_reason> why;
        if (s.options.pool_pre_ping) {
            std::exception_ptr failed;
            try {
                why = co_await offload([&] { return s.unfit(*candidate); });  // a round trip, blocking
            } catch (...) {
                failed = std::current_exception();
            }
            if (failed) {
                s.give_back(std::move(candidate), false);  // unchecked, but not ours to keep
                std::rethrow_exception(failed);
            }
        } else {
            why = s.unfit(*candidate);
        }
        if (why) {
            s.discard(std::move(candidate), *why);
            continue;
        }
        s.record_wait(start);
        co_return lease(state_, std::move(candidate));
    }
}

void engine::dispose(std::chrono::milliseconds grace) noexcept {
    if (replicas_) replicas_->dispose(grace);
    auto& s = *state_;
    std::deque<std::unique_ptr<detail::pooled_connection>> closing;
    {
        std::unique_lock lock(s.mutex);
        s.disposing = true;
        s.watch.notify_all();
        for (auto* w : s.waiters) {
            w->refused = true;
            w->notify();
        }
        s.waiters.clear();
        s.open -= s.idle.size();
        closing.swap(s.idle);
        s.returned.wait_for(lock, grace, [&] { return s.checked_out == 0; });
    }
    // Connections still out are closed by give_back when they return.
}

pool_status engine::status() const {
    const auto& s = *state_;
    std::lock_guard lock(s.mutex);
    pool_status st;
    st.size = s.open;
    st.checked_out = s.checked_out;
    st.idle = s.idle.size();
    st.overflow = s.open > s.options.pool_size ? s.open - s.options.pool_size : 0;
    st.waiting = s.waiters.size();
    st.timeouts = s.timeouts;
    st.created = s.created;
    st.discarded = s.discarded;
    return st;
}

}  // namespace keel
