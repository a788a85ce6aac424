#pragma once
// The receiver's counters and their stats line.
#include <cstdint>
#include <string>

namespace socket_receiver {

/// The counters of the periodic and the final stats line.
struct stats {
  std::uint64_t connections = 0, received = 0, forwarded = 0, superseded = 0, malformed = 0,
                overflows = 0, rejected = 0, failures = 0;
};

/// "stats: connections=.. received=.. forwarded=.. superseded=.. malformed=.. overflows=..
/// rejected=.. failed_attempts=..", in the one format of all four programs (common::stats_line).
std::string stats_line(const stats& s);

}  // namespace socket_receiver
