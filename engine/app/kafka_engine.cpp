// engine --kafka. One thread runs the Kafka pipeline (librdkafka's C++ API), one runs asio for the
// sink to the receiver. Every engine of the group does three jobs on the partitions the group
// assigns it (one consumer, eager rebalancing):
//   tweets partitions      repartition: each hashtag to <group>-hashtags partition murmur2(key) % P,
//                          with its origin; the tweets offsets are committed once those events are
//                          acknowledged by Kafka
//   <group>-hashtags p     count: an exact partition_counter per partition, its top N published to
//                          <group>-tops when it changes, snapshots to <group>-state partition p
//   <group>-tops 0         write: merge the newest partial tops into the global top N, send records
//                          in the original format to --out
// docs/scale-out.md argues why this is exact.
#include "kafka_engine.hpp"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>
#include <unistd.h>

#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <future>
#include <optional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/backoff.hpp"
#include "common/kafka_conf.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "common/stats_line.hpp"
#include "common/time.hpp"
#include "engine/counting.hpp"
#include "engine/kafka.hpp"
#include "sink.hpp"
#include "wire/record.hpp"
#include "wire/utf8.hpp"

namespace engine {

namespace {

namespace log = common::log;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

/// How often changed partial tops are published, and the tweets offsets committed.
constexpr auto publish_every = 50ms;
constexpr auto commit_every = 500ms;
/// How often every counting partition publishes its top even when unchanged.
constexpr auto republish_every = 10s;
/// How long a revoke or a stop waits for Kafka to take what was produced.
constexpr int flush_ms = 60'000;

std::string kafka_error(RdKafka::ErrorCode e) { return RdKafka::err2str(e); }

// librdkafka's log and error events, once per kind of event per 30 s: a cluster that is away
// must give a clear line, not one per broker per retry.
class event_logger : public RdKafka::EventCb {
public:
  explicit event_logger(std::string who) : who_(std::move(who)) {}
  void event_cb(RdKafka::Event& event) override {
    switch (event.type()) {
      case RdKafka::Event::EVENT_ERROR:
        if (event.fatal()) {
          fatal_ = true;
          log::error(who_ + ": fatal Kafka error: " + log::escape(event.str()));
        } else {
          say(std::to_string(static_cast<int>(event.err())), who_ + ": Kafka: " + kafka_error(event.err()) + ": " +
                                                                 log::escape(event.str()));
        }
        break;
      case RdKafka::Event::EVENT_LOG:
        // --kafka-option goes to every client: a consumer setting on the producer is not news.
        if (event.fac() == "CONFWARN" && event.str().find("is a consumer property") != std::string::npos)
          log::debug(who_ + ": librdkafka " + event.fac() + ": " + log::escape(event.str()));
        else if (event.severity() <= RdKafka::Event::EVENT_SEVERITY_WARNING)
          say(event.fac(), who_ + ": librdkafka " + event.fac() + ": " + log::escape(event.str()));
        else
          log::debug(who_ + ": librdkafka " + event.fac() + ": " + log::escape(event.str()));
        break;
      default:
        break;
    }
  }
  bool fatal() const noexcept { return fatal_; }

private:
  void say(const std::string& kind, const std::string& line) {
    const auto now = clock_type::now();
    std::lock_guard lock(mutex_);
    auto& last = last_[kind];
    if (last != clock_type::time_point{} && now - last < 30s) {
      log::debug(line);
      return;
    }
    last = now;
    log::warn(line);
  }
  std::string who_;
  std::mutex mutex_;  // librdkafka calls from its own threads for the log
  std::map<std::string, clock_type::time_point> last_;
  std::atomic<bool> fatal_{false};
};

std::unique_ptr<RdKafka::Conf> make_conf(const config& cfg, RdKafka::EventCb* events,
                                         std::initializer_list<std::pair<const char*, std::string>> settings) {
  std::vector<common::kafka_settings::setting> own{{"bootstrap.servers", cfg.kafka},
                                                   {"client.id", "trend-engine-" + std::to_string(::getpid())},
                                                   {"log.connection.close", "false"}};
  for (const auto& [key, value] : settings) own.push_back({key, value});
  auto conf = common::kafka_settings::make_conf(own, cfg.kafka_config, cfg.kafka_options);
  std::string err;
  if (conf->set("event_cb", events, err) != RdKafka::Conf::CONF_OK) throw std::runtime_error(err);
  return conf;
}

/// Creates the internal topics (compacted where they hold newest-per-key records); a cluster that
/// refuses (no right to create, an old broker, the mock) leaves it to topics made beforehand.
void create_topics(RdKafka::Handle& handle, const config& cfg) {
  struct wanted {
    std::string name;
    int partitions;
    bool compact;
  };
  const std::vector<wanted> topics{{kafka::hashtags_topic(cfg.kafka_group), cfg.kafka_partitions, false},
                                   {kafka::tops_topic(cfg.kafka_group), 1, true},
                                   {kafka::state_topic(cfg.kafka_group), cfg.kafka_partitions, true}};
  rd_kafka_t* rk = handle.c_ptr();
  std::vector<rd_kafka_NewTopic_t*> news;
  char err[256];
  for (const auto& t : topics) {
    auto* nt = rd_kafka_NewTopic_new(t.name.c_str(), t.partitions, -1, err, sizeof err);
    if (!nt) throw std::runtime_error("topic " + t.name + ": " + err);
    if (t.compact) rd_kafka_NewTopic_set_config(nt, "cleanup.policy", "compact");
    news.push_back(nt);
  }
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
  rd_kafka_AdminOptions_t* options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_request_timeout(options, 10'000, err, sizeof err);
  rd_kafka_CreateTopics(rk, news.data(), news.size(), options, queue);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(queue, 15'000);
  if (!ev) {
    log::warn("kafka: creating the internal topics got no answer in 15 s; using them as they are");
  } else if (rd_kafka_event_error(ev)) {
    log::warn(std::string("kafka: the internal topics could not be created (") + rd_kafka_event_error_string(ev) +
              "); using them as they are");
  } else {
    std::size_t n = 0;
    const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    for (std::size_t k = 0; k < n; ++k) {
      const auto e = rd_kafka_topic_result_error(results[k]);
      const std::string name = rd_kafka_topic_result_name(results[k]);
      if (e == RD_KAFKA_RESP_ERR_NO_ERROR) log::info("kafka: created topic " + name);
      else if (e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
        log::warn("kafka: topic " + name + " not created (" + rd_kafka_err2str(e) + "); using it as it is");
    }
  }
  if (ev) rd_kafka_event_destroy(ev);
  rd_kafka_AdminOptions_destroy(options);
  rd_kafka_queue_destroy(queue);
  rd_kafka_NewTopic_destroy_array(news.data(), news.size());
}

/// The partition counts of the topics, or an empty map while the cluster cannot be reached.
std::map<std::string, int> partition_counts(RdKafka::Handle& handle, const std::vector<std::string>& names) {
  std::map<std::string, int> out;
  RdKafka::Metadata* md = nullptr;
  if (handle.metadata(true, nullptr, &md, 5000) != RdKafka::ERR_NO_ERROR || !md) return out;
  std::unique_ptr<RdKafka::Metadata> owned(md);
  for (const auto* t : *md->topics())
    if (std::find(names.begin(), names.end(), t->topic()) != names.end() && t->err() == RdKafka::ERR_NO_ERROR)
      out[t->topic()] = static_cast<int>(t->partitions()->size());
  return out;
}

class kafka_engine : public RdKafka::RebalanceCb, public RdKafka::DeliveryReportCb {
public:
  kafka_engine(const config& cfg, asio::io_context& io)
      : cfg_(cfg),
        io_(io),
        hashtags_(kafka::hashtags_topic(cfg.kafka_group)),
        tops_(kafka::tops_topic(cfg.kafka_group)),
        state_topic_(kafka::state_topic(cfg.kafka_group)),
        tags_(cfg.hashtags, cfg.normalize),
        producer_events_("producer"),
        consumer_events_("consumer"),
        sink_(io, cfg.out,
              record_source{[this](std::string& out) { out += record_; }, [this] { return !record_.empty(); }},
              cfg.receiver_timeout),
        forward_(io) {
    forward_.expires_at(asio::steady_timer::time_point::max());
    if (cfg.metrics)
      metrics_.emplace(*cfg.metrics, common::metrics::sources{std::make_shared<common::metrics::from_function>(
                                         [this](common::metrics::families& f) { collect(f); })});
  }

  /// Connects to the cluster (waiting while it is away), then runs until `stop` is set.
  int run(const std::atomic<bool>& stop) {
    asio::co_spawn(io_, forward_records(), asio::detached);
    asio::co_spawn(io_, watch_sink(), asio::detached);
    std::string err;
    auto pconf = make_conf(cfg_, &producer_events_,
                           {{"enable.idempotence", "true"},
                            {"acks", "all"},
                            {"message.timeout.ms", "0"},  // never give up: brokers that return get it all
                            {"linger.ms", "5"},
                            {"message.max.bytes", std::to_string(kafka::chunk_bytes + 64 * 1024)}});
    std::string derr;
    if (pconf->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(this), derr) != RdKafka::Conf::CONF_OK)
      throw std::runtime_error(derr);
    producer_.reset(RdKafka::Producer::create(pconf.get(), err));
    if (!producer_) throw std::runtime_error("Kafka producer: " + err);

    if (!wait_for_cluster(stop)) return finish(0);
    auto cconf = make_conf(cfg_, &consumer_events_,
                           {{"group.id", cfg_.kafka_group},
                            {"enable.auto.commit", "false"},
                            {"enable.auto.offset.store", "false"},
                            {"auto.offset.reset", "earliest"},
                            {"partition.assignment.strategy", "range"}});
    if (cconf->set("rebalance_cb", static_cast<RdKafka::RebalanceCb*>(this), err) != RdKafka::Conf::CONF_OK)
      throw std::runtime_error(err);
    consumer_.reset(RdKafka::KafkaConsumer::create(cconf.get(), err));
    if (!consumer_) throw std::runtime_error("Kafka consumer: " + err);
    const auto e = consumer_->subscribe({cfg_.kafka_topic, hashtags_, tops_});
    if (e != RdKafka::ERR_NO_ERROR) throw std::runtime_error("Kafka subscribe: " + kafka_error(e));
    log::info("kafka: member of group " + cfg_.kafka_group + " on " + log::escape(cfg_.kafka) + ": tweets from " +
              cfg_.kafka_topic + ", " + std::to_string(partitions_) + " counting partitions");
    loop(stop);
    return finish(fatal_.empty() ? 0 : 1);
  }

  // ---- librdkafka callbacks (from consume() and poll() on this thread) ---------------------------

  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override {
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
      assign(partitions);
      consumer->assign(partitions);
    } else {
      revoke();
      consumer->unassign();
    }
  }

  void dr_cb(RdKafka::Message& message) override {
    const auto epoch = reinterpret_cast<std::uintptr_t>(message.msg_opaque());
    if (!barriers_.empty() && epoch >= barriers_.front().epoch && epoch - barriers_.front().epoch < barriers_.size())
      --barriers_[epoch - barriers_.front().epoch].outstanding;
    if (message.err() != RdKafka::ERR_NO_ERROR && fatal_.empty()) {
      // The producer never times out; what fails is fatal for exactness (a gap in a partition).
      fatal_ = "a record to " + message.topic_name() + " [" + std::to_string(message.partition()) +
               "] failed: " + kafka_error(message.err());
      log::error("kafka: " + fatal_ + "; stopping (the engines that take over produce it again)");
    }
  }

private:
  struct barrier {  // the tweets positions to commit once every record produced before is acknowledged
    std::uintptr_t epoch = 0;
    std::map<std::int32_t, std::int64_t> positions;
    std::uint64_t outstanding = 0;
    bool closed = false;
  };
  static barrier make_barrier(std::uintptr_t epoch) {
    barrier b;
    b.epoch = epoch;
    return b;
  }

  struct owned_counter {
    std::unique_ptr<kafka::partition_counter> counter;
    bool dirty = true;                  // a top to publish
    std::int64_t snapshot_offset = -2;  // the offset the last snapshot covered
    std::uint64_t generation = 0;       // of the last snapshot seen or written
  };

  // ---- start-up ----------------------------------------------------------------------------------

  bool wait_for_cluster(const std::atomic<bool>& stop) {
    common::backoff delay(500ms, 10s);
    auto last_said = clock_type::time_point{};
    const std::vector<std::string> names{cfg_.kafka_topic, hashtags_, tops_, state_topic_};
    bool created = false;
    while (!stop) {
      auto counts = partition_counts(*producer_, names);
      const bool internal_missing = !counts.count(hashtags_) || !counts.count(tops_) || !counts.count(state_topic_);
      if (!counts.empty() && internal_missing && !created) {
        create_topics(*producer_, cfg_);
        created = true;
        counts = partition_counts(*producer_, names);
      }
      if (!counts.empty()) {
        std::string missing;
        for (const auto& n : names)
          if (!counts.count(n)) missing += " " + n;
        if (missing.empty()) {
          partitions_ = counts[hashtags_];
          if (counts[state_topic_] < partitions_)
            throw std::runtime_error(state_topic_ + " has fewer partitions than " + hashtags_ + " (" +
                                     std::to_string(counts[state_topic_]) + " < " + std::to_string(partitions_) + ")");
          log::info("kafka: cluster reached; " + cfg_.kafka_topic + " has " + std::to_string(counts[cfg_.kafka_topic]) +
                    " partitions, " + hashtags_ + " " + std::to_string(partitions_));
          return true;
        }
        if (clock_type::now() - last_said > 30s) {
          log::warn("kafka: waiting for topics:" + missing + " (create them, or let the engine: see docs/scale-out.md)");
          last_said = clock_type::now();
        }
      } else if (clock_type::now() - last_said > 30s) {
        log::warn("kafka: cluster at " + log::escape(cfg_.kafka) + " unreachable; retrying with back-off up to 10 s");
        last_said = clock_type::now();
      }
      const auto until = clock_type::now() + delay.next();
      while (!stop && clock_type::now() < until) std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  // ---- the loop -----------------------------------------------------------------------------------

  void loop(const std::atomic<bool>& stop) {
    barriers_.push_back(make_barrier(1));
    auto next_publish = clock_type::now(), next_commit = clock_type::now(), next_tick = clock_type::now();
    auto next_republish = clock_type::now() + republish_every;
    auto next_checkpoint = clock_type::now() + cfg_.checkpoint_interval;
    auto next_stats = clock_type::now() + cfg_.flags.stats_interval();
    auto next_metrics = clock_type::now();
    auto last_stats = clock_type::now();
    std::uint64_t last_applied = 0;
    const auto tick_every = std::clamp<clock_type::duration>(cfg_.slide, 100ms, 1s);
    while (!stop && fatal_.empty() && !producer_events_.fatal() && !consumer_events_.fatal()) {
      // A batch: wait up to 20 ms for the first message, then take what is there.
      for (int n = 0; n < 10'000; ++n) {
        std::unique_ptr<RdKafka::Message> msg(consumer_->consume(n == 0 ? 20 : 0));
        if (msg->err() == RdKafka::ERR__TIMED_OUT) break;
        if (msg->err() != RdKafka::ERR_NO_ERROR) {
          if (msg->err() != RdKafka::ERR__PARTITION_EOF)
            log::debug("kafka: consume: " + kafka_error(msg->err()) + ": " + log::escape(msg->errstr()));
          break;
        }
        take(*msg);
        if (stop || !fatal_.empty()) break;
      }
      producer_->poll(0);
      const auto now = clock_type::now();
      if (now >= next_publish) {
        publish_tops();
        next_publish = now + publish_every;
      }
      if (now >= next_republish) {  // a new writer then hears from every partition soon, compacted or not
        for (auto& [p, c] : counters_) c.dirty = true;
        next_republish = now + republish_every;
      }
      if (now >= next_commit) {
        close_barrier();
        next_commit = now + commit_every;
      }
      if (cfg_.window.count() > 0 && now >= next_tick) {
        send_ticks();
        next_tick = now + tick_every;
      }
      if (now >= next_checkpoint) {
        for (auto& [p, c] : counters_) snapshot(p, c);
        next_checkpoint = now + cfg_.checkpoint_interval;
      }
      if (metrics_ && now >= next_metrics) {  // a scrape reads these, from the endpoint's own thread
        auto m = measure();
        std::lock_guard lock(published_mutex_);
        published_ = m;
        next_metrics = now + 1s;
      }
      if (cfg_.flags.stats_interval().count() > 0 && now >= next_stats) {
        const double secs = std::chrono::duration<double>(now - last_stats).count();
        log_stats(measure(), static_cast<double>(stats_.applied - last_applied) / secs);
        last_applied = stats_.applied;
        last_stats = now;
        next_stats = now + cfg_.flags.stats_interval();
      }
    }
  }

  void take(RdKafka::Message& msg) {
    const std::string& topic = msg.topic_name();
    if (topic == hashtags_) count(msg);
    else if (topic == cfg_.kafka_topic) repartition(msg);
    else if (topic == tops_) merge(msg);
  }

  // ---- repartition ---------------------------------------------------------------------------------

  void produce(const std::string& topic, std::int32_t partition, std::string_view key, std::string_view value,
               std::int64_t timestamp) {
    auto& open = barriers_.back();
    while (true) {
      const auto e = producer_->produce(topic, partition, RdKafka::Producer::RK_MSG_COPY, const_cast<char*>(value.data()),
                                        value.size(), key.empty() ? nullptr : key.data(), key.size(), timestamp,
                                        reinterpret_cast<void*>(open.epoch));
      if (e == RdKafka::ERR_NO_ERROR) break;
      if (e != RdKafka::ERR__QUEUE_FULL) {
        fatal_ = "cannot produce to " + topic + ": " + kafka_error(e);
        log::error("kafka: " + fatal_);
        return;
      }
      // Kafka is slow or away: wait for room (back-pressure on the tweets read).
      if (!queue_full_said_) log::warn("kafka: the producer queue is full (the cluster is slow or away); waiting");
      queue_full_said_ = true;
      producer_->poll(100);
    }
    ++open.outstanding;
  }

  void repartition(RdKafka::Message& msg) {
    const std::string_view text(static_cast<const char*>(msg.payload()), msg.len());
    const std::int32_t source = msg.partition();
    positions_[source] = msg.offset() + 1;
    ++stats_.tweets;
    if (!wire::utf8::valid(text)) {
      if (++stats_.skipped_utf8 <= 5)
        log::warn("skipped tweet " + cfg_.kafka_topic + " [" + std::to_string(source) + "] @" +
                  std::to_string(msg.offset()) + ": invalid UTF-8 (" + std::to_string(text.size()) + " bytes)");
      return;
    }
    const auto ts = msg.timestamp().timestamp >= 0 ? msg.timestamp().timestamp : common::unix_ms();
    log_time_ = std::max(log_time_, ts);
    last_tweet_ = clock_type::now();
    tags_.start(text);
    std::uint32_t index = 0;
    while (tags_.next()) {
      kafka::hashtag_event e;
      if (tags_.display() != tags_.key()) e.display = tags_.display();
      e.partition = source;
      e.offset = msg.offset();
      e.index = index++;
      e.timestamp_ms = ts;
      value_.clear();
      kafka::encode(e, value_);
      produce(hashtags_, kafka::partition_of(tags_.key(), partitions_), tags_.key(), value_, ts);
      ++stats_.hashtags_out;
    }
  }

  // Windowed: every counting partition learns the log time this engine's tweets reached, so that
  // windows move on everywhere; with no tweet for a while, the wall clock (less that while) goes on.
  void send_ticks() {
    if (tweet_partitions_.empty()) return;
    const auto idle_after = std::max<clock_type::duration>(2 * cfg_.slide, 1s);
    std::int64_t t = log_time_;
    if (clock_type::now() - last_tweet_ > idle_after)
      t = std::max(t, common::unix_ms() - std::chrono::duration_cast<std::chrono::milliseconds>(idle_after).count());
    if (t <= last_tick_) return;
    last_tick_ = t;
    value_.clear();
    kafka::encode(kafka::tick{t}, value_);
    for (std::int32_t p = 0; p < partitions_; ++p) produce(hashtags_, p, {}, value_, t);
  }

  // Commits the tweets positions of a barrier once every record produced before it is acknowledged.
  void close_barrier() {
    auto& open = barriers_.back();
    open.positions = positions_;
    open.closed = true;
    barriers_.push_back(make_barrier(open.epoch + 1));
    while (barriers_.size() > 1 && barriers_.front().closed && barriers_.front().outstanding == 0) {
      commit(barriers_.front().positions, false);
      barriers_.pop_front();
    }
  }

  void commit(const std::map<std::int32_t, std::int64_t>& positions, bool sync) {
    std::vector<RdKafka::TopicPartition*> offsets;
    for (const auto& [p, next] : positions) {
      auto committed = committed_.find(p);
      if (committed != committed_.end() && committed->second == next) continue;
      offsets.push_back(RdKafka::TopicPartition::create(cfg_.kafka_topic, p, next));
      committed_[p] = next;
    }
    if (!offsets.empty()) {
      const auto e = sync ? consumer_->commitSync(offsets) : consumer_->commitAsync(offsets);
      if (e != RdKafka::ERR_NO_ERROR) log::warn("kafka: committing the tweets offsets: " + kafka_error(e));
    }
    RdKafka::TopicPartition::destroy(offsets);
  }

  // ---- count --------------------------------------------------------------------------------------

  void count(RdKafka::Message& msg) {
    auto it = counters_.find(msg.partition());
    if (it == counters_.end()) return;
    auto& c = it->second;
    const std::string_view key(msg.key_pointer() ? static_cast<const char*>(msg.key_pointer()) : "", msg.key_len());
    const std::string_view value(static_cast<const char*>(msg.payload()), msg.len());
    switch (c.counter->apply(msg.offset(), key, value)) {
      case kafka::partition_counter::outcome::applied: ++stats_.applied; break;
      case kafka::partition_counter::outcome::duplicate: ++stats_.duplicates; break;
      case kafka::partition_counter::outcome::tick: break;
      case kafka::partition_counter::outcome::bad:
        if (++stats_.bad_events <= 5)
          log::warn("skipped a record of " + hashtags_ + " [" + std::to_string(msg.partition()) + "] @" +
                    std::to_string(msg.offset()) + ": not a hashtag event");
        break;
    }
    if (c.counter->changed()) {
      c.counter->clear_changed();
      c.dirty = true;
    }
  }

  void publish_tops() {
    for (auto& [p, c] : counters_) {
      if (!c.dirty) continue;
      c.dirty = false;
      const std::string value = kafka::encode(c.counter->top());
      produce(tops_, 0, "p" + std::to_string(p), value, -1);
    }
  }

  // Snapshot of a counting partition, when it moved on since the last one.
  void snapshot(std::int32_t p, owned_counter& c) {
    if (c.counter->offset() == c.snapshot_offset) return;
    const std::string bytes = c.counter->save();
    const auto records = kafka::cut_snapshot(bytes, ++c.generation, c.counter->offset());
    for (std::uint32_t k = 0; k < records.chunks.size(); ++k)
      produce(state_topic_, p, kafka::chunk_key(p, c.generation, k), records.chunks[k], -1);
    produce(state_topic_, p, kafka::manifest_key(p), records.manifest, -1);
    c.snapshot_offset = c.counter->offset();
    ++stats_.snapshots;
  }

  // The newest complete snapshot of counting partition p, read with a consumer of its own.
  owned_counter load(std::int32_t p) {
    owned_counter c;
    c.counter = std::make_unique<kafka::partition_counter>(cfg_, p);
    const auto started = clock_type::now();
    std::string err;
    auto conf = make_conf(cfg_, &consumer_events_, {{"enable.partition.eof", "true"}, {"fetch.wait.max.ms", "10"}});
    std::unique_ptr<RdKafka::Consumer> reader(RdKafka::Consumer::create(conf.get(), err));
    if (!reader) throw std::runtime_error("Kafka state reader: " + err);
    std::unique_ptr<RdKafka::Topic> topic(RdKafka::Topic::create(reader.get(), state_topic_, nullptr, err));
    std::int64_t low = 0, high = 0;
    for (int attempt = 0;; ++attempt) {
      const auto e = reader->query_watermark_offsets(state_topic_, p, &low, &high, 5000);
      if (e == RdKafka::ERR_NO_ERROR) break;
      if (attempt == 0) log::warn("state: cannot read " + state_topic_ + " [" + std::to_string(p) + "] (" + kafka_error(e) + "); retrying");
      std::this_thread::sleep_for(500ms);
    }
    // Reads [from, to) of the partition, calling f(key, value, offset).
    auto read = [&](std::int64_t from, std::int64_t to, auto&& f) {
      if (from >= to) return;
      reader->start(topic.get(), p, from);
      for (std::int64_t next = from; next < to;) {
        std::unique_ptr<RdKafka::Message> m(reader->consume(topic.get(), p, 1000));
        if (m->err() == RdKafka::ERR__TIMED_OUT || m->err() == RdKafka::ERR__PARTITION_EOF) {
          if (m->err() == RdKafka::ERR__PARTITION_EOF) break;
          continue;
        }
        if (m->err() != RdKafka::ERR_NO_ERROR) {
          log::warn("state: reading " + state_topic_ + ": " + kafka_error(m->err()));
          continue;
        }
        next = m->offset() + 1;
        const std::string_view key(m->key_pointer() ? static_cast<const char*>(m->key_pointer()) : "", m->key_len());
        f(key, std::string_view(static_cast<const char*>(m->payload()), m->len()), m->offset());
      }
      reader->stop(topic.get(), p);
    };
    const std::string mkey = kafka::manifest_key(p);
    std::optional<kafka::manifest> found;
    std::int64_t found_at = -1;
    auto look_for_manifest = [&](std::string_view key, std::string_view value, std::int64_t offset) {
      if (key != mkey) return;
      if (auto m = kafka::decode_manifest(value)) {
        found = m;
        found_at = offset;
      }
    };
    // The manifest is normally the last record; after a crash in the middle of a snapshot it is not.
    read(std::max(low, high - 1), high, look_for_manifest);
    if (!found && high > low) read(low, high, look_for_manifest);
    std::string why = "no snapshot";
    bool restored = false;
    if (found) {
      c.generation = found->generation;
      auto try_from = [&](std::int64_t from) {
        kafka::snapshot_assembler parts(*found);
        read(from, found_at, [&](std::string_view, std::string_view value, std::int64_t) { parts.take(value); });
        const auto bytes = parts.result();
        if (!bytes) return false;
        restored = c.counter->restore(*bytes, why);
        return true;
      };
      if (!try_from(std::max(low, found_at - static_cast<std::int64_t>(found->chunks))) && !try_from(low))
        why = "its chunks are incomplete or corrupt";
    }
    if (!restored && found) log::warn("state: partition " + std::to_string(p) + ": snapshot not used (" + why + "); counting from the start");
    c.snapshot_offset = c.counter->offset();
    const double ms = std::chrono::duration<double, std::milli>(clock_type::now() - started).count();
    log::info("state: partition " + std::to_string(p) + (restored ? " restored from snapshot " + std::to_string(c.generation) : " starts empty") +
              " at offset " + std::to_string(c.counter->offset()) + ", " + std::to_string(c.counter->distinct()) +
              " hashtags, in " + std::to_string(static_cast<long long>(ms)) + " ms");
    return c;
  }

  // ---- write ----------------------------------------------------------------------------------------

  void merge(RdKafka::Message& msg) {
    const std::string_view value(static_cast<const char*>(msg.payload()), msg.len());
    if (auto top = kafka::decode_partial_top(value)) merger_.update(std::move(*top));
    if (msg.offset() + 1 < tops_caught_up_at_) return;  // still reading what earlier writers wrote
    if (!merger_.complete()) {
      if (!incomplete_said_) log::info("writer: waiting for the top of every counting partition");
      incomplete_said_ = true;
      return;
    }
    auto merged = merger_.merged(cfg_.top);
    if (emitted_ && merged == last_emitted_) return;
    // All-time counts have no empty record (as the TCP engine); a window that empties has one.
    if (merged.labels.empty() && cfg_.window.count() == 0) return;
    last_emitted_ = merged;
    emitted_ = true;
    ++stats_.records;
    std::string record = wire::record::encode(merged);
    asio::post(io_, [this, record = std::move(record)]() mutable {
      record_ = std::move(record);
      forward_pending_ = true;
      forward_.cancel();
    });
  }

  // The io thread: the newest record goes out as soon as the sink has room (each record is a
  // whole top N: newer replaces older while the receiver is slow or away).
  asio::awaitable<void> forward_records() {
    while (!io_stopping_) {
      if (!forward_pending_) {
        forward_.expires_at(asio::steady_timer::time_point::max());
        co_await forward_.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
        continue;
      }
      if (sink_.full()) co_await sink_.wait_for_room();
      forward_pending_ = false;
      sink_.on_update();
      sink_.notify();
    }
  }

  asio::awaitable<void> watch_sink() {
    asio::steady_timer t(io_);
    while (!io_stopping_) {
      sent_records_ = sink_.counters().records_sent;
      receiver_connected_ = sink_.connected();
      t.expires_after(200ms);
      co_await t.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
    }
  }

  // ---- rebalancing -----------------------------------------------------------------------------------

  void assign(std::vector<RdKafka::TopicPartition*>& partitions) {
    std::string tweets, counted;
    std::map<std::int32_t, owned_counter> keep;
    for (auto* tp : partitions) {
      const auto p = tp->partition();
      if (tp->topic() == hashtags_) {
        auto parked = parked_.find(p);
        // A state this engine held is exact at its offset: going on from there is as good as a snapshot.
        owned_counter c = parked != parked_.end() ? std::move(parked->second) : load(p);
        tp->set_offset(c.counter->offset() + 1);
        c.dirty = true;  // a new writer must hear from every partition
        keep.emplace(p, std::move(c));
        counted += " " + std::to_string(p);
      } else if (tp->topic() == tops_) {
        writer_ = true;
        // Only a writer talks to the receiver (the original receiver takes one connection).
        asio::post(io_, [this] {
          if (std::exchange(sink_started_, true)) return;
          asio::co_spawn(io_, sink_.run(nullptr), asio::detached);
        });
        merger_.reset(partitions_);
        emitted_ = false;
        incomplete_said_ = false;
        std::int64_t low = 0, high = 0;
        if (consumer_->query_watermark_offsets(tops_, 0, &low, &high, 5000) != RdKafka::ERR_NO_ERROR) high = 0;
        tops_caught_up_at_ = high;
        tp->set_offset(RdKafka::Topic::OFFSET_BEGINNING);  // compacted: the newest top of each partition
      } else {
        tweet_partitions_.insert(p);
        tweets += " " + std::to_string(p);
      }
    }
    parked_.clear();
    counters_ = std::move(keep);
    log::info("kafka: assigned tweets [" + tweets + " ], counting [" + counted + " ]" + (writer_ ? ", writer" : ""));
  }

  void revoke() {
    publish_tops();
    // What this engine produced must be in Kafka before another takes its partitions over.
    const int wait_ms = stopping_ ? 10'000 : flush_ms;
    if (producer_->flush(wait_ms) == RdKafka::ERR_NO_ERROR) {
      commit(positions_, true);
    } else {
      // Not committed: the next owner produces them again, and the counting partitions skip copies.
      log::error("kafka: " + std::to_string(producer_->outq_len()) + " records not acknowledged in " +
                 std::to_string(wait_ms / 1000) + " s at a rebalance; their tweets are not committed");
    }
    for (auto& b : barriers_) b.positions.clear();  // partitions this engine may no longer own
    positions_.clear();
    committed_.clear();
    tweet_partitions_.clear();
    for (auto& [p, c] : counters_) parked_.emplace(p, std::move(c));
    counters_.clear();
    writer_ = false;
  }

  // ---- stopping ------------------------------------------------------------------------------------

  int finish(int code) {
    stopping_ = true;
    if (consumer_) {
      if (code == 0) {
        publish_tops();
        for (auto& [p, c] : counters_) snapshot(p, c);  // the next owner starts from here
      }
      consumer_->close();  // leaves the group: revoke() flushes and commits
    }
    if (producer_ && producer_->flush(code == 0 ? 10'000 : 1000) != RdKafka::ERR_NO_ERROR)
      log::warn("kafka: " + std::to_string(producer_->outq_len()) + " records not acknowledged at the stop");
    log_stats(measure(), 0);
    std::promise<void> done;
    asio::post(io_, [this, &done] {
      asio::co_spawn(io_, [this, &done]() -> asio::awaitable<void> {
        co_await sink_.flush_and_stop(5s);
        io_stopping_ = true;
        forward_.cancel();
        done.set_value();
      }, asio::detached);
    });
    done.get_future().wait();
    consumer_.reset();
    producer_.reset();
    return code;
  }

  /// What the stats line and the metrics show, read on the counting thread.
  struct measures {
    std::uint64_t tweets = 0, skipped_utf8 = 0, hashtags_out = 0, applied = 0, duplicates = 0, bad_events = 0,
                  snapshots = 0, records = 0, records_sent = 0;
    std::size_t counting_partitions = 0, tweet_partitions = 0, distinct = 0, state_bytes = 0;
    std::int64_t lag = 0;
    bool writer = false, receiver_connected = false;
  };

  measures measure() const {
    measures m;
    for (const auto& [p, c] : counters_) {
      m.distinct += c.counter->distinct();
      m.state_bytes += c.counter->memory_bytes();
      std::int64_t low = 0, high = 0;
      if (consumer_ && consumer_->get_watermark_offsets(hashtags_, p, &low, &high) == RdKafka::ERR_NO_ERROR && high > 0)
        m.lag += std::max<std::int64_t>(0, high - 1 - c.counter->offset());
    }
    for (const auto& [p, next] : positions_) {
      std::int64_t low = 0, high = 0;
      if (consumer_ && consumer_->get_watermark_offsets(cfg_.kafka_topic, p, &low, &high) == RdKafka::ERR_NO_ERROR && high > 0)
        m.lag += std::max<std::int64_t>(0, high - next);
    }
    m.tweets = stats_.tweets;
    m.skipped_utf8 = stats_.skipped_utf8;
    m.hashtags_out = stats_.hashtags_out;
    m.applied = stats_.applied;
    m.duplicates = stats_.duplicates;
    m.bad_events = stats_.bad_events;
    m.snapshots = stats_.snapshots;
    m.records = stats_.records;
    m.records_sent = sent_records_.load();
    m.counting_partitions = counters_.size();
    m.tweet_partitions = tweet_partitions_.size();
    m.writer = writer_;
    m.receiver_connected = receiver_connected_;
    return m;
  }

  void log_stats(const measures& m, double per_second) {
    common::stats_line line;
    line.add("tweets", m.tweets)
        .add("hashtags_out", m.hashtags_out)
        .add("applied", m.applied)
        .add("duplicates", m.duplicates)
        .add("counting_partitions", m.counting_partitions)
        .add("tweet_partitions", m.tweet_partitions)
        .add("writer", m.writer ? "yes" : "no")
        .add("distinct", m.distinct)
        .add("state_bytes", m.state_bytes)
        .add("lag", m.lag)
        .add("snapshots", m.snapshots)
        .add("records", m.records)
        .add("records_sent", m.records_sent)
        .add("receiver", m.receiver_connected ? "connected" : "disconnected")
        .add("skipped_utf8", m.skipped_utf8)
        .add("hashtags_per_s", per_second);
    log::info(line.str());
  }

  /// The engine's metrics on Kafka (docs/observability.md): the TCP engine's where they mean the
  /// same, and the group's own; from the last measures taken by the counting thread.
  void collect(common::metrics::families& f) const {
    measures m;
    {
      std::lock_guard lock(published_mutex_);
      m = published_;
    }
    const auto n = [](auto v) { return static_cast<double>(v); };
    f.counter("trend_engine_tweets_total", "Tweets counted (valid UTF-8, not a resent duplicate).", n(m.tweets))
        .counter("trend_engine_hashtags_total", "Hashtag events applied by this process's counting partitions.",
                 n(m.applied))
        .counter("trend_engine_records_total", "Records written whole to the receiver.", n(m.records_sent))
        .counter("trend_engine_skipped_messages_total",
                 "Messages read and not counted: not valid UTF-8, or a hashtag event applied before.",
                 n(m.skipped_utf8), {{"reason", "invalid_utf8"}})
        .counter("trend_engine_skipped_messages_total", "", n(m.duplicates), {{"reason", "duplicate"}})
        .gauge("trend_engine_distinct_hashtags", "Distinct hashtags held in this engine's counting partitions.",
               n(m.distinct))
        .gauge("trend_engine_state_memory_bytes", "Bytes of memory the counting state holds.", n(m.state_bytes))
        .gauge("trend_engine_receiver_connected", "1 while the engine is connected to the receiver, else 0.",
               m.receiver_connected ? 1 : 0)
        .counter("trend_engine_kafka_hashtag_events_produced_total",
                 "Hashtag events this engine's repartitioner produced to <group>-hashtags.", n(m.hashtags_out))
        .counter("trend_engine_kafka_bad_events_total", "Records of <group>-hashtags that did not decode.",
                 n(m.bad_events))
        .gauge("trend_engine_kafka_counting_partitions", "Counting partitions this engine holds.",
               n(m.counting_partitions))
        .gauge("trend_engine_kafka_tweet_partitions", "Partitions of the tweets topic this engine reads.",
               n(m.tweet_partitions))
        .gauge("trend_engine_kafka_writer", "1 while this engine is the group's writer (talks to the receiver).",
               m.writer ? 1 : 0)
        .gauge("trend_engine_kafka_lag", "Records not yet read: tweets and hashtag events behind the partitions' ends.",
               n(m.lag))
        .counter("trend_engine_kafka_snapshots_total", "Snapshots written to <group>-state.", n(m.snapshots))
        .counter("trend_engine_kafka_records_total", "Global top records merged by this engine while writer.",
                 n(m.records));
  }

  const config& cfg_;
  asio::io_context& io_;
  const std::string hashtags_, tops_, state_topic_;
  std::int32_t partitions_ = 1;
  tweet_tags tags_;
  event_logger producer_events_, consumer_events_;
  std::unique_ptr<RdKafka::Producer> producer_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::string fatal_;
  std::string value_;
  bool queue_full_said_ = false;

  // repartitioning
  std::map<std::int32_t, std::int64_t> positions_;  // tweets partition -> next offset to read
  std::map<std::int32_t, std::int64_t> committed_;
  std::set<std::int32_t> tweet_partitions_;
  std::deque<barrier> barriers_;
  bool stopping_ = false;
  std::int64_t log_time_ = 0, last_tick_ = -1;
  clock_type::time_point last_tweet_ = clock_type::now();

  // counting
  std::map<std::int32_t, owned_counter> counters_, parked_;

  // writing
  bool writer_ = false;
  kafka::top_merger merger_;
  std::int64_t tops_caught_up_at_ = 0;
  bool emitted_ = false, incomplete_said_ = false;
  wire::record::top_list last_emitted_;

  // the io thread's side
  sink sink_;
  asio::steady_timer forward_;
  std::string record_;
  bool forward_pending_ = false;
  bool io_stopping_ = false;
  bool sink_started_ = false;
  std::atomic<std::uint64_t> sent_records_{0};
  std::atomic<bool> receiver_connected_{false};

  struct {
    std::uint64_t tweets = 0, skipped_utf8 = 0, hashtags_out = 0, applied = 0, duplicates = 0, bad_events = 0,
                  snapshots = 0, records = 0;
  } stats_;

  // --metrics: the last measures, for the endpoint's thread (declared last: it stops first).
  mutable std::mutex published_mutex_;
  measures published_;
  std::optional<common::metrics::endpoint_thread> metrics_;
};

}  // namespace

int run_kafka(const config& cfg, common::stop_signals& signals) {
  log::info("counting: " + describe_counting(cfg) + "; on Kafka (group " + cfg.kafka_group + "); records when the top " +
            std::to_string(cfg.top) + " changes");
  asio::io_context io(1);
  auto guard = asio::make_work_guard(io);
  std::atomic<bool> stop{false};
  signals.on_stop([&](int signo) {
    log::info(std::string("received ") + common::stop_signals::name(signo) + ": leaving the group, flushing records");
    stop = true;
  });
  std::thread io_thread([&io] { io.run(); });
  int code = 1;
  try {
    kafka_engine engine(cfg, io);
    code = engine.run(stop);
  } catch (const std::exception& e) {
    log::error(e.what());
    code = 1;
  }
  guard.reset();
  io.stop();
  io_thread.join();
  signals.on_stop({});
  log::info("stopped");
  return code;
}

}  // namespace engine
