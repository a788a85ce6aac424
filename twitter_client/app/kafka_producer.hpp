#pragma once
// twitter_client --kafka: takes frames from the queue, as the engine link does, and produces each
// tweet's text as a record of the topic (librdkafka: idempotent, acks=all, never timing out while
// the cluster is away). Delivery reports count what Kafka acknowledged; what it refused, or what
// is still unacknowledged at the end, is counted as lost and logged.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>

#include "stats.hpp"
#include "twitter_client/frame_queue.hpp"
#include "twitter_client/options.hpp"

namespace twitter_client {

class kafka_producer {
public:
  using clock = std::chrono::steady_clock;

  /// Registers with the queue's on_ready; throws std::runtime_error on a bad Kafka setting.
  kafka_producer(const config& cfg, frame_queue& queue, client_stats& stats);
  ~kafka_producer();
  kafka_producer(const kafka_producer&) = delete;
  kafka_producer& operator=(const kafka_producer&) = delete;

  /// Thread body: produces until the source finished and Kafka acknowledged everything, or the deadline passed.
  void run();
  /// The source has stopped for good. Any thread.
  void source_finished();
  /// After this instant what is not acknowledged is counted as lost. Any thread.
  void give_up_at(clock::time_point deadline);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace twitter_client
