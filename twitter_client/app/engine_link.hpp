#pragma once
// The link to the engine: one thread writes whole frames from the queue to one TCP connection,
// reconnecting with back-off; never splits or repeats a frame across connections.
#include <atomic>
#include <chrono>
#include <cstdint>

#include "stats.hpp"
#include "twitter_client/frame_queue.hpp"
#include "common/hostport.hpp"

namespace twitter_client {

class engine_link {
public:
  engine_link(common::host_port engine, frame_queue& queue, client_stats& stats)
      : engine_(std::move(engine)), queue_(queue), stats_(stats) {}

  /// Thread body: sends until the queue is closed and empty, or the deadline passed.
  void run();
  /// The source has stopped for good: exit once the queue is empty.
  void source_finished() { source_finished_ = true; }
  /// After this instant the link stops trying and counts what is left as lost.
  void give_up_at(std::chrono::steady_clock::time_point deadline);

private:
  bool past_deadline() const;
  bool connect_once(std::string& error);
  bool write_batch(frame_batch& batch);
  bool peer_closed();
  void close_socket(bool graceful);

  common::host_port engine_;
  frame_queue& queue_;
  client_stats& stats_;
  std::atomic<std::int64_t> deadline_ns_{INT64_MAX};
  std::atomic<bool> source_finished_{false};
  int fd_ = -1;
  bool ever_connected_ = false;
};

}  // namespace twitter_client
