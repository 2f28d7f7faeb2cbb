#pragma once

// Microseconds per unit: PostgreSQL keeps timestamps, times and intervals in microseconds.

#include <cstdint>

namespace keel::detail {

inline constexpr std::int64_t micros_per_second = 1'000'000;
inline constexpr std::int64_t micros_per_minute = 60 * micros_per_second;
inline constexpr std::int64_t micros_per_hour = 60 * micros_per_minute;
inline constexpr std::int64_t micros_per_day = 24 * micros_per_hour;

}  // namespace keel::detail
