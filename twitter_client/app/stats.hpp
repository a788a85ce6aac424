#pragma once
// Counters shared by the source, the engine link and the stats line.
#include <atomic>
#include <cstdint>

namespace twitter_client {

struct client_stats {
  std::atomic<std::uint64_t> read{0};               ///< tweets taken from the source
  std::atomic<std::uint64_t> sent{0};               ///< frames fully handed to the kernel
  std::atomic<std::uint64_t> skipped{0};            ///< torn/bad lines and texts too long for 5 digits
  std::atomic<std::uint64_t> engine_reconnects{0};  ///< engine connections after the first
  std::atomic<std::uint64_t> stream_reconnects{0};  ///< Twitter stream reconnections
  std::atomic<std::uint64_t> lost{0};               ///< frames still unsent when the client gave up
};

}  // namespace twitter_client
