#include "kafka_producer.hpp"

#include <librdkafka/rdkafkacpp.h>
#include <unistd.h>

#include <map>
#include <stdexcept>
#include <string>

#include "common/kafka_conf.hpp"
#include "common/log.hpp"
#include "twitter_client/frame_texts.hpp"

namespace twitter_client {

namespace log = common::log;
using namespace std::chrono_literals;

struct kafka_producer::impl : RdKafka::DeliveryReportCb, RdKafka::EventCb {
  impl(const config& cfg, frame_queue& q, client_stats& s) : queue(q), stats(s), topic(cfg.kafka_topic), brokers(cfg.kafka) {
    auto conf = common::kafka_settings::make_conf(
        {{"bootstrap.servers", cfg.kafka},
         {"client.id", "twitter_client-" + std::to_string(::getpid())},
         {"enable.idempotence", "true"},  // a retried send is written once, in order
         {"acks", "all"},
         {"message.timeout.ms", "0"},     // never give up while the cluster is away; the queue bounds it
         {"queue.buffering.max.messages", std::to_string(std::min<std::size_t>(cfg.queue_frames, 10'000'000))},
         {"linger.ms", "5"},
         {"log.connection.close", "false"}},
        cfg.kafka_config, cfg.kafka_options);
    std::string err;
    if (conf->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(this), err) != RdKafka::Conf::CONF_OK ||
        conf->set("event_cb", static_cast<RdKafka::EventCb*>(this), err) != RdKafka::Conf::CONF_OK)
      throw std::runtime_error(err);
    producer.reset(RdKafka::Producer::create(conf.get(), err));
    if (!producer) throw std::runtime_error("Kafka producer: " + err);
    queue.on_ready([this] { wake(); });
  }

  void wake() {
    std::lock_guard lock(mutex);
    woken = true;
    cv.notify_all();
  }

  void dr_cb(RdKafka::Message& message) override {
    if (message.err() == RdKafka::ERR_NO_ERROR) {
      stats.sent.fetch_add(1, std::memory_order_relaxed);
      stats.acked.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    stats.lost.fetch_add(1, std::memory_order_relaxed);
    if (++failed <= 5)
      log::error("kafka: a tweet was not produced to " + topic + ": " + RdKafka::err2str(message.err()) +
                 (failed == 5 ? "; further ones are only counted (lost=)" : ""));
  }

  // librdkafka's own log and errors, each kind at most once per 30 s (a cluster that is away would
  // otherwise give a line per broker per retry). Called from librdkafka's threads.
  void event_cb(RdKafka::Event& event) override {
    if (event.type() != RdKafka::Event::EVENT_ERROR &&
        !(event.type() == RdKafka::Event::EVENT_LOG && event.severity() <= RdKafka::Event::EVENT_SEVERITY_WARNING))
      return;
    if (event.type() == RdKafka::Event::EVENT_ERROR && event.fatal()) {
      log::error("kafka: fatal error: " + log::escape(event.str()));
      fatal = true;
      wake();
      return;
    }
    const std::string kind = event.type() == RdKafka::Event::EVENT_ERROR ? RdKafka::err2str(event.err()) : event.fac();
    const auto now = clock::now();
    {
      std::lock_guard lock(log_mutex);
      auto& last = last_said[kind];
      if (last != clock::time_point{} && now - last < 30s) return;
      last = now;
    }
    if (event.type() == RdKafka::Event::EVENT_ERROR && event.err() == RdKafka::ERR__ALL_BROKERS_DOWN)
      log::warn("kafka: every broker of " + log::escape(brokers) + " is unreachable; tweets wait in the queue, retrying");
    else
      log::warn("kafka: " + kind + ": " + log::escape(event.str()));
  }

  // Produces one batch; false when the deadline passed with frames left (put back to be counted).
  bool produce(frame_batch& batch) {
    const std::string_view frames = batch.pending();
    std::size_t done_bytes = 0;
    bool gave_up = false;
    for_each_frame_text(frames, [&](std::string_view text) {
      if (gave_up) return;
      while (true) {
        const auto e = producer->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                                         const_cast<char*>(text.data()), text.size(), nullptr, 0, 0, nullptr);
        if (e == RdKafka::ERR_NO_ERROR) break;
        if (e != RdKafka::ERR__QUEUE_FULL) {
          stats.lost.fetch_add(1, std::memory_order_relaxed);
          if (++failed <= 5) log::error("kafka: a tweet cannot be produced to " + topic + ": " + RdKafka::err2str(e));
          break;
        }
        // librdkafka's queue is full (the cluster is slow or away): frames wait in ours meanwhile.
        producer->poll(100);
        if (past_deadline() || fatal) {
          gave_up = true;
          return;
        }
      }
      done_bytes += wire::frame::header_size + text.size() + 1;
    });
    if (gave_up) {
      batch.head += done_bytes;
      batch.frames = for_each_frame_text(batch.pending(), [](std::string_view) {});
      queue.requeue_front(std::move(batch));
      return false;
    }
    return true;
  }

  bool past_deadline() {
    std::lock_guard lock(mutex);
    return clock::now() >= deadline;
  }

  void run() {
    bool said_producing = false;
    while (!fatal) {
      if (auto batch = queue.try_pop()) {
        if (!said_producing) {
          log::info("kafka: producing tweets to " + topic + " on " + log::escape(brokers));
          said_producing = true;
        }
        if (!produce(*batch)) break;
        producer->poll(0);
        continue;
      }
      producer->poll(0);
      std::unique_lock lock(mutex);
      if (finished && queue.frames() == 0) break;
      cv.wait_for(lock, 50ms, [&] { return woken || finished; });
      woken = false;
    }
    // What librdkafka holds: wait for Kafka's acknowledgements up to the deadline.
    while (producer->outq_len() > 0 && !fatal && !past_deadline()) producer->poll(100);
    const auto left = static_cast<std::uint64_t>(producer->outq_len()) + queue.frames();
    if (left > 0) {
      stats.lost.fetch_add(left, std::memory_order_relaxed);
      log::error("kafka: " + std::to_string(left) + " tweets were not acknowledged by Kafka in time (lost=)");
      producer->purge(RdKafka::Producer::PURGE_QUEUE | RdKafka::Producer::PURGE_INFLIGHT);
      producer->poll(0);
    }
  }

  frame_queue& queue;
  client_stats& stats;
  std::string topic, brokers;
  std::unique_ptr<RdKafka::Producer> producer;
  std::mutex mutex;
  std::condition_variable cv;
  bool woken = false, finished = false;
  clock::time_point deadline = clock::time_point::max();
  std::atomic<bool> fatal{false};
  std::uint64_t failed = 0;
  std::mutex log_mutex;
  std::map<std::string, clock::time_point> last_said;
};

kafka_producer::kafka_producer(const config& cfg, frame_queue& queue, client_stats& stats)
    : impl_(std::make_unique<impl>(cfg, queue, stats)) {}

kafka_producer::~kafka_producer() { impl_->queue.on_ready({}); }

void kafka_producer::run() { impl_->run(); }

void kafka_producer::source_finished() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->finished = true;
  }
  impl_->wake();
}

void kafka_producer::give_up_at(clock::time_point deadline) {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->deadline = deadline;
  }
  impl_->wake();
}

}  // namespace twitter_client
