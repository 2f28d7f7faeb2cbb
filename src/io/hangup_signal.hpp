#pragma once

// A client that hangs up while its request waits on PostgreSQL should not leave the statement
// running: the server notices the hang-up (its sweeper peeks at the sockets of connections
// whose request has a statement out), and a session that registered its statement here has it
// cancelled. Shared by the request (the server's side) and the sessions opened for it, which
// may outlive it. Private to keel.

#include <atomic>
#include <memory>
#include <mutex>
#include <utility>

namespace keel::detail {

class hangup_signal {
public:
    /// How to cancel what is in flight; it may block (libpq's cancel connects to the server).
    using cancel_fn = void (*)(void* target) noexcept;

    /// A statement went out: a hang-up from now until disarm() cancels it with fn(target).
    /// False when the client has hung up already (nothing is armed then). The target is shared
    /// so that a cancel under way keeps it alive: disarm() never waits for one.
    bool arm(cancel_fn fn, std::shared_ptr<void> target) noexcept {
        std::lock_guard lock(mutex_);
        if (hung_up_) return false;
        cancel_ = fn;
        target_ = std::move(target);
        armed_.store(true, std::memory_order_relaxed);
        return true;
    }
    /// The statement is answered.
    void disarm() noexcept {
        std::shared_ptr<void> dropped;  // released after the lock
        std::lock_guard lock(mutex_);
        cancel_ = nullptr;
        dropped = std::move(target_);
        armed_.store(false, std::memory_order_relaxed);
    }
    /// Whether a statement is out now (a hint for the server's sweeper; it reads no lock).
    bool armed() const noexcept { return armed_.load(std::memory_order_relaxed); }
    bool hung_up() const noexcept {
        std::lock_guard lock(mutex_);
        return hung_up_;
    }

    /// The server: the client is gone. Cancels the statement in flight, if any. Blocks: call it
    /// off the I/O threads.
    void hang_up() noexcept {
        cancel_fn cancel = nullptr;
        std::shared_ptr<void> target;
        {
            std::lock_guard lock(mutex_);
            hung_up_ = true;
            cancel = cancel_;
            target = target_;
        }
        if (cancel) cancel(target.get());  // without the lock: the session's disarm() must not wait
    }

private:
    mutable std::mutex mutex_;
    cancel_fn cancel_ = nullptr;
    std::shared_ptr<void> target_;
    bool hung_up_ = false;
    std::atomic<bool> armed_{false};
};

}  // namespace keel::detail
