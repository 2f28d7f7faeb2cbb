#pragma once

// What a keel::result holds: one libpq result. Private to keel.

#include "db/pq.hpp"

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

namespace keel::detail {

struct result_data {
    pq::result_ptr rows;
};

/// Where a deferred statement's result goes (its keel::deferred_result's slot): the result at
/// `at` in the round trip that carried it.
struct deferred_delivery {
    std::size_t at;
    std::shared_ptr<result_data> slot;
};

/// Hands each deferred statement its result, once the call that carried them succeeded.
inline void deliver(std::span<const deferred_delivery> deliveries, std::vector<pq::result_ptr>& results) {
    for (const auto& d : deliveries) d.slot->rows = std::move(results[d.at]);
}

}  // namespace keel::detail
