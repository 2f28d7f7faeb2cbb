#pragma once

// Clients that keep posting random transfers to the bank and remember what they were told.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace keel_fault {

struct load_outcome {
    std::vector<std::int64_t> acknowledged;  // ids of transfers answered 201
    long refused = 0;                        // 409: insufficient funds
    long unavailable = 0;                    // 503
    long unknown = 0;                        // no answer (connection refused, reset, timed out)
    long in_doubt = 0;                       // 500 "outcome unknown": the connection broke during COMMIT
    long other = 0;                          // any other status: a bug
    std::chrono::milliseconds slowest{0};    // the longest any answered request took
};

class transfer_load {
public:
    /// Starts `clients` threads against 127.0.0.1:`port`, between accounts 1..`accounts`.
    transfer_load(unsigned short port, int clients, int accounts);
    ~transfer_load();  // stops
    transfer_load(const transfer_load&) = delete;
    transfer_load& operator=(const transfer_load&) = delete;

    /// Stops the clients and returns what they saw.
    load_outcome stop();
    /// Answers so far (any status), and 201s so far: for waiting until the load is under way.
    long answered() const { return answered_; }
    long acknowledged() const { return acknowledged_; }

private:
    void client(int seed);

    unsigned short port_;
    int accounts_;
    std::atomic<bool> stopping_{false};
    std::atomic<long> answered_{0};
    std::atomic<long> acknowledged_{0};
    std::mutex mutex_;
    load_outcome outcome_;
    std::vector<std::thread> threads_;
};

/// Blocks until `condition()` or `timeout`; returns the condition's last value.
template <class F>
bool eventually(F condition, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!condition()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
}

}  // namespace keel_fault
