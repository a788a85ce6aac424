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
  std::atomic<std::uint64_t> acked{0};              ///< frames the engine acknowledged (--delivery auto)
  std::atomic<std::uint64_t> unconfirmed{0};        ///< frames sent but never acknowledged at the end
  // The live sources (bluesky, mastodon) only; shown in their stats lines.
  std::atomic<std::uint64_t> ignored{0};     ///< events that are no new post (deletes, updates, boosts, ...)
  std::atomic<std::uint64_t> duplicates{0};  ///< posts replayed after a reconnect, not forwarded again
  std::atomic<std::uint64_t> other_lang{0};  ///< posts in none of the --lang languages
};

}  // namespace twitter_client
