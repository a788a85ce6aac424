#pragma once
// Wall-clock time as the programs show it: Unix milliseconds and ISO 8601 in UTC.
#include <cstdint>
#include <string>

namespace common {

/// Milliseconds since the Unix epoch, from the system clock.
std::int64_t unix_ms() noexcept;

/// "2026-11-25T10:00:00.123Z" for Unix milliseconds; "" for 0 or less (never).
std::string iso8601_utc(std::int64_t ms);

}  // namespace common
