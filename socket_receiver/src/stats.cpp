#include "socket_receiver/stats.hpp"

#include "common/stats_line.hpp"

namespace socket_receiver {

std::string stats_line(const stats& s) {
  return common::stats_line()
      .add("connections", s.connections)
      .add("received", s.received)
      .add("forwarded", s.forwarded)
      .add("superseded", s.superseded)
      .add("malformed", s.malformed)
      .add("overflows", s.overflows)
      .add("rejected", s.rejected)
      .add("failed_attempts", s.failures)
      .str();
}

}  // namespace socket_receiver
