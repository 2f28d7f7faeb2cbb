#include "db/replica_set.hpp"

#include <keel/logger.hpp>

#include "db/connection_url.hpp"
#include "db/session_origin.hpp"
#include "io/event_loop.hpp"
#include "metrics/families.hpp"

#include <boost/asio/steady_timer.hpp>

#include <libpq-fe.h>
#include <algorithm>
#include <coroutine>

namespace keel::detail {

using steady = std::chrono::steady_clock;

// A plain libpq connection of the monitor's own, reopened when it breaks.
struct replica_set::pq_conn {
    std::string url;
    PGconn* handle = nullptr;

    explicit pq_conn(std::string u) : url(std::move(u)) {}
    ~pq_conn() { close(); }
    void close() noexcept {
        if (handle) PQfinish(handle);
        handle = nullptr;
    }
    // The first row of `sql` as text values (empty for NULL); throws with libpq's message.
    std::vector<std::string> row(const char* sql) {
        if (!handle || PQstatus(handle) != CONNECTION_OK) {
            close();
            handle = PQconnectdb(url.c_str());
            if (PQstatus(handle) != CONNECTION_OK) {
                std::string why = PQerrorMessage(handle);
                close();
                throw std::runtime_error(trimmed(why));
            }
        }
        PGresult* r = PQexec(handle, sql);
        if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) < 1) {
            std::string why = PQresultErrorMessage(r);
            PQclear(r);
            close();  // reopened next time: whatever happened, start clean
            throw std::runtime_error(trimmed(why.empty() ? "no row" : why));
        }
        std::vector<std::string> values;
        values.reserve(static_cast<std::size_t>(PQnfields(r)));
        for (int i = 0; i < PQnfields(r); ++i) values.emplace_back(PQgetvalue(r, 0, i));
        PQclear(r);
        return values;
    }
    static std::string trimmed(std::string s) {
        while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
        return s;
    }
};

struct replica_set::replica {
    std::string name;  // host:port/database, for the log and the metrics (never a password)
    std::unique_ptr<keel::engine> pool;
    pq_conn monitor;
    std::atomic<wal_position> replayed{0};
    std::atomic<bool> usable{false};
    std::atomic<std::int64_t> lag_ms{-1};  // -1: unknown (down, or not checked yet)
    std::atomic<std::uint64_t> reads{0};
    bool reported = false;  // the monitor's: whether its state was logged once

    replica(std::string n, std::unique_ptr<keel::engine> p, std::string monitor_url)
        : name(std::move(n)), pool(std::move(p)), monitor(std::move(monitor_url)) {}
};

namespace {

// `host:port/database` of a libpq URL or key=value string.
std::string server_name(const std::string& url) {
    char* error = nullptr;
    PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
    if (!options) {
        if (error) PQfreemem(error);
        return "replica";
    }
    std::string host = "localhost", port = "5432", database;
    for (auto* o = options; o->keyword; ++o) {
        if (!o->val) continue;
        const std::string_view key = o->keyword;
        if (key == "host" || key == "hostaddr") host = o->val;
        if (key == "port") port = o->val;
        if (key == "dbname") database = o->val;
    }
    PQconninfoFree(options);
    return host + ":" + port + (database.empty() ? "" : "/" + database);
}

void log_line(log_level level, const std::string& message, std::initializer_list<log_field> fields) {
    working_for::current_logger().write(level, message, {},
                                        std::span<const log_field>(fields.begin(), fields.size()));
}

}  // namespace

replica_set::replica_set(const engine_options& primary) : options_(primary) {
    options_.replica_urls.clear();
    for (const auto& url : primary.replica_urls) {
        auto replica_options = options_;
        replica_options.url = url;
        replica_options.pool_peek_before_use = true;  // a replica that went away is found before use
        replicas_.push_back(std::make_unique<replica>(server_name(url),
                                                      std::make_unique<keel::engine>(replica_options),
                                                      connection_url(url, options_)));
    }
    primary_ = std::make_unique<pq_conn>(connection_url(options_.url, options_));
    thread_ = std::thread([this] { monitor(); });
}

replica_set::~replica_set() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void replica_set::dispose(std::chrono::milliseconds grace) noexcept {
    for (auto& r : replicas_) r->pool->dispose(grace);
}

bool replica_set::any_usable() const noexcept {
    return std::any_of(replicas_.begin(), replicas_.end(), [](const auto& r) { return r->usable.load(); });
}

replica_set::replica* replica_set::pick(wal_position read_after) {
    const auto n = replicas_.size();
    const auto first = next_.fetch_add(1, std::memory_order_relaxed);
    for (std::size_t i = 0; i < n; ++i) {
        auto& r = *replicas_[(first + i) % n];
        if (r.usable.load(std::memory_order_acquire) &&
            r.replayed.load(std::memory_order_acquire) >= read_after)
            return &r;
    }
    return nullptr;
}

keel::engine* replica_set::choose(wal_position read_after) {
    if (auto* r = pick(read_after)) {
        r->reads.fetch_add(1, std::memory_order_relaxed);
        return r->pool.get();
    }
    if (read_after == 0 || !any_usable()) {
        fallbacks_[static_cast<int>(fallback::none_usable)].fetch_add(1, std::memory_order_relaxed);
        return nullptr;
    }
    // Up, but not yet past the token: the monitor polls fast while anyone waits.
    token_waits_.fetch_add(1, std::memory_order_relaxed);
    waiting_.fetch_add(1);
    wake_.notify_all();
    const auto deadline = steady::now() + options_.read_your_writes_wait;
    replica* found = nullptr;
    while (!found && steady::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        found = pick(read_after);
    }
    waiting_.fetch_sub(1);
    if (found) {
        found->reads.fetch_add(1, std::memory_order_relaxed);
        return found->pool.get();
    }
    fallbacks_[static_cast<int>(fallback::behind_token)].fetch_add(1, std::memory_order_relaxed);
    return nullptr;
}

namespace {

// co_await pause{loop, d}: resumes on `loop` after `d`. The timer lives beside the handler, so a
// coroutine destroyed while it waits is never resumed.
class pause {
public:
    pause(boost::asio::io_context& loop, std::chrono::milliseconds how_long)
        : s(std::make_shared<state>(loop)), duration(how_long) {}
    pause(const pause&) = delete;
    pause& operator=(const pause&) = delete;
    ~pause() {
        s->alive = false;
        s->timer.cancel();
    }
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) {
        s->waiting = h;
        s->timer.expires_after(duration);
        s->timer.async_wait([keep = s](boost::system::error_code) {
            if (keep->alive) keep->waiting.resume();
        });
    }
    void await_resume() const noexcept {}

private:
    struct state {
        explicit state(boost::asio::io_context& l) : timer(l) {}
        boost::asio::steady_timer timer;
        std::coroutine_handle<> waiting;
        bool alive = true;
    };
    std::shared_ptr<state> s;
    std::chrono::milliseconds duration;
};

}  // namespace

task<keel::engine*> replica_set::choose_async(wal_position read_after) {
    if (auto* r = pick(read_after)) {
        r->reads.fetch_add(1, std::memory_order_relaxed);
        co_return r->pool.get();
    }
    auto* loop = this_thread_loop();
    if (read_after == 0 || !any_usable() || !loop) {
        fallbacks_[static_cast<int>(loop ? fallback::none_usable : fallback::behind_token)].fetch_add(
            1, std::memory_order_relaxed);
        co_return nullptr;
    }
    token_waits_.fetch_add(1, std::memory_order_relaxed);
    waiting_.fetch_add(1);
    struct stop_waiting {
        std::atomic<int>& n;
        ~stop_waiting() { n.fetch_sub(1); }
    } waiting{waiting_};
    wake_.notify_all();
    const auto deadline = steady::now() + options_.read_your_writes_wait;
    while (steady::now() < deadline) {
        pause tick(*loop, std::chrono::milliseconds(1));
        co_await tick;
        if (auto* r = pick(read_after)) {
            r->reads.fetch_add(1, std::memory_order_relaxed);
            co_return r->pool.get();
        }
    }
    fallbacks_[static_cast<int>(fallback::behind_token)].fetch_add(1, std::memory_order_relaxed);
    co_return nullptr;
}

void replica_set::checkout_failed(keel::engine* pool, const std::string& why) noexcept {
    fallbacks_[static_cast<int>(fallback::checkout_failed)].fetch_add(1, std::memory_order_relaxed);
    for (auto& r : replicas_) {
        if (r->pool.get() != pool) continue;
        if (r->usable.exchange(false)) {
            try {
                log_line(log_level::warning,
                         "keel: replica skipped: a connection failed; reads go to the primary",
                         {{"replica", r->name}, {"error", why}});
            } catch (...) {
            }
        }
    }
}

void replica_set::monitor() {
    auto last_primary = steady::time_point{};
    for (;;) {
        const bool fast = waiting_.load() > 0;
        if (!fast || steady::now() - last_primary >= options_.replica_check_interval) {
            check_primary();
            last_primary = steady::now();
        }
        for (auto& r : replicas_) {
            if (!fast || r->usable.load()) check(*r);  // (polling fast: no reconnecting to a down one)
        }
        std::unique_lock lock(mutex_);
        const auto pause_for =
            waiting_.load() > 0 ? std::chrono::milliseconds(1) : options_.replica_check_interval;
        wake_.wait_for(lock, pause_for, [&] { return stopping_ || (!fast && waiting_.load() > 0); });
        if (stopping_) return;
    }
}

void replica_set::check_primary() {
    try {
        const auto row = primary_->row("SELECT pg_current_wal_lsn()");
        const auto at = parse_wal_position(row.at(0));
        if (!at) return;
        const auto now = steady::now();
        samples_.push_back({now, *at});
        // Enough history to tell a lag of max_replica_lag and a little more.
        const auto keep = options_.max_replica_lag + 3 * options_.replica_check_interval;
        const auto old =
            std::find_if(samples_.begin(), samples_.end(), [&](const auto& s) { return now - s.at <= keep; });
        if (old != samples_.begin() && old != samples_.end()) samples_.erase(samples_.begin(), old - 1);
    } catch (...) {
        // The primary down: no new samples; replicas keep their last lag (the sessions'
        // own checkouts find out about the primary).
    }
}

std::chrono::milliseconds replica_set::lag_of(wal_position replayed) const {
    if (samples_.empty() || replayed >= samples_.back().written) return std::chrono::milliseconds(0);
    // The oldest moment the primary had written WAL the replica has not replayed: it lags at
    // least that long.
    const auto now = steady::now();
    for (const auto& s : samples_) {
        if (s.written > replayed) return std::chrono::duration_cast<std::chrono::milliseconds>(now - s.at);
    }
    return std::chrono::milliseconds(0);
}

void replica_set::check(replica& r) {
    try {
        const auto row = r.monitor.row("SELECT pg_is_in_recovery()::text, pg_last_wal_replay_lsn()::text");
        if (row.at(0) != "true") {
            r.lag_ms.store(-1);
            set_usable(r, false, "not a replica (in recovery: no): promoted, or the primary's address");
            return;
        }
        const auto replayed = parse_wal_position(row.at(1)).value_or(0);
        r.replayed.store(std::max(r.replayed.load(), replayed), std::memory_order_release);
        const auto lag = lag_of(replayed);
        r.lag_ms.store(lag.count());
        if (lag > options_.max_replica_lag) {
            set_usable(r, false, "lagging " + std::to_string(lag.count()) + " ms behind the primary");
        } else {
            set_usable(r, true, "");
        }
    } catch (const std::exception& e) {
        r.lag_ms.store(-1);
        set_usable(r, false, std::string("down: ") + e.what());
    }
}

void replica_set::set_usable(replica& r, bool usable, const std::string& why) {
    const bool was = r.usable.exchange(usable, std::memory_order_acq_rel);
    if (was == usable && r.reported) return;
    const bool first = !r.reported;
    r.reported = true;
    try {
        if (usable) {
            log_line(log_level::info, first ? "keel: replica in use" : "keel: replica back in use",
                     {{"replica", r.name}});
        } else {
            log_line(log_level::warning, "keel: replica skipped; its reads go to the primary",
                     {{"replica", r.name}, {"reason", why}});
        }
    } catch (...) {
    }
}

void replica_set::collect(std::vector<prometheus::MetricFamily>& out) const {
    using type = prometheus::MetricType;
    auto& usable =
        add_family(out, "keel_db_replica_usable",
                   "1 while a replica takes read-only sessions (up, in recovery, not lagging)", type::Gauge);
    for (const auto& r : replicas_) add_sample(usable, r->usable.load() ? 1 : 0, {{"replica", r->name}});
    auto& lag = add_family(out, "keel_db_replica_lag_seconds",
                           "How far behind the primary a replica's replay is (-1: unknown)", type::Gauge);
    for (const auto& r : replicas_) {
        const auto ms = r->lag_ms.load();
        add_sample(lag, ms < 0 ? -1.0 : static_cast<double>(ms) / 1000.0, {{"replica", r->name}});
    }
    auto& reads =
        add_family(out, "keel_db_replica_reads_total", "Read-only sessions a replica took", type::Counter);
    for (const auto& r : replicas_)
        add_sample(reads, static_cast<double>(r->reads.load()), {{"replica", r->name}});
    add_by_label(out, "keel_db_replica_fallbacks_total",
                 "Read-only sessions sent to the primary instead, by reason", type::Counter, "reason",
                 {{"none_usable", static_cast<double>(fallbacks_[0].load())},
                  {"behind_token", static_cast<double>(fallbacks_[1].load())},
                  {"checkout_failed", static_cast<double>(fallbacks_[2].load())}});
    add_single(out, "keel_db_replica_token_waits_total",
               "Read-only sessions that waited for a replica to replay past their read-your-writes token",
               type::Counter, static_cast<double>(token_waits_.load()));
}

}  // namespace keel::detail
