#pragma once
// The tweet sources. Each one hands texts to a frame_sink, which frames, batches, paces and
// queues them without ever waiting for the engine (unless --queue-full wait).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "stats.hpp"
#include "twitter_client/frame_queue.hpp"
#include "twitter_client/tweet_text.hpp"

namespace twitter_client {

/// The User-Agent every source sends.
inline constexpr const char* user_agent = "trend-twitter_client/0.1";

struct sink_options {
  double rate = 0;           ///< tweets per second, 0 = as fast as possible
  std::uint64_t limit = 0;   ///< stop after this many tweets, 0 = never
  bool wait_when_full = false;
};

/// Frames texts into batches and hands them to the queue.
class frame_sink {
public:
  frame_sink(frame_queue& queue, client_stats& stats, const std::atomic<bool>& stop, sink_options options);
  /// Frames one tweet; false when the source must stop (limit reached or stop requested).
  bool add(std::string_view text);
  /// Hands the current batch to the queue (live sources call it after every network read).
  void flush();
  /// True once --limit tweets were taken or a stop was requested.
  bool done() const;

private:
  void pace();

  frame_queue& queue_;
  client_stats& stats_;
  const std::atomic<bool>& stop_;
  sink_options options_;
  frame_batch batch_;
  std::uint64_t count_ = 0;
  std::chrono::steady_clock::time_point start_;
};

/// Sleeps up to `d`, waking early when stop becomes true.
void sleep_unless_stopped(std::chrono::steady_clock::duration d, const std::atomic<bool>& stop);

void run_synthetic(frame_sink& sink, std::uint64_t seed, std::size_t tags);
/// Returns false (after logging) when the file cannot be read.
bool run_replay(frame_sink& sink, client_stats& stats, const std::string& path, bool loop, text_mode mode);
void run_stdin(frame_sink& sink, const std::atomic<bool>& stop);

}  // namespace twitter_client
