#pragma once

// What a keel::result holds: one libpq result. Private to keel.

#include "db/pq.hpp"

namespace keel::detail {

struct result_data {
    pq::result_ptr rows;
};

}  // namespace keel::detail
