#include <keel/retry.hpp>

#include <algorithm>
#include <random>
#include <thread>

namespace keel::detail {

void conflict_backoff(const retry_policy& policy, int attempt) {
    // Full jitter: colliding transactions spread out instead of colliding again in step.
    const std::chrono::milliseconds grown(policy.base_delay.count() << std::min(attempt, 20));
    const auto ceiling = std::min(policy.max_delay, grown);
    thread_local std::minstd_rand random(std::random_device{}());
    std::uniform_int_distribution<long long> pick(0, std::max<long long>(ceiling.count(), 0));
    std::this_thread::sleep_for(std::chrono::milliseconds(pick(random)));
}

}  // namespace keel::detail
