#pragma once
// Counters shared by the source, the engine link and the stats line.
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "twitter_client/reconnect.hpp"

namespace twitter_client {

struct client_stats {
  std::atomic<std::uint64_t> read{0};               ///< tweets taken from the source
  std::atomic<std::uint64_t> sent{0};               ///< frames fully handed to the kernel
  std::atomic<std::uint64_t> skipped{0};            ///< torn/bad lines and texts too long for 5 digits
  std::atomic<std::uint64_t> engine_reconnects{0};  ///< engine connections after the first
  std::atomic<std::uint64_t> stream_reconnects{0};  ///< Twitter stream reconnections
  std::atomic<std::uint64_t> lost{0};               ///< frames still unsent when the client gave up
  std::atomic<std::uint64_t> acked{0};              ///< frames the engine acknowledged (--delivery auto)
  std::atomic<std::uint64_t> unconfirmed{0};        ///< frames sent but never acknowledged at the end
  // The live sources (bluesky, mastodon) only; shown in their stats lines.
  std::atomic<std::uint64_t> ignored{0};     ///< events that are no new post (deletes, updates, boosts, ...)
  std::atomic<std::uint64_t> duplicates{0};  ///< posts replayed after a reconnect, not forwarded again
  std::atomic<std::uint64_t> other_lang{0};  ///< posts in none of the --lang languages
  // For the metrics (docs/observability.md):
  std::array<std::atomic<std::uint64_t>, stream_end_count> stream_reconnects_by{};  ///< by how the last one ended
  std::array<std::atomic<std::uint64_t>, 2> engine_reconnects_by{};  ///< [0] the engine closed, [1] a write failed
  std::atomic<bool> engine_connected{false};

  /// One more stream connection, after one that ended so.
  void count_stream_reconnect(stream_end last) {
    stream_reconnects.fetch_add(1, std::memory_order_relaxed);
    stream_reconnects_by[static_cast<std::size_t>(last)].fetch_add(1, std::memory_order_relaxed);
  }
};

}  // namespace twitter_client
