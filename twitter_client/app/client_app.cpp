#include "client_app.hpp"

#include <curl/curl.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "common/log.hpp"
#include "common/metrics.hpp"
#include "common/stats_line.hpp"
#include "engine_link.hpp"
#include "kafka_producer.hpp"
#include "live_streams.hpp"
#include "sources.hpp"
#include "twitter_client/credentials.hpp"
#include "twitter_stream.hpp"

namespace twitter_client {

namespace {

namespace log = common::log;
using clock_type = std::chrono::steady_clock;

// Environment first, then the --credentials file (which wins).
bool load_credentials(const std::string& path, credential_map& creds) {
  for (auto name : credential_names)
    if (const char* v = std::getenv(std::string(name).c_str()); v != nullptr && *v != '\0')
      creds[std::string(name)] = v;
  if (path.empty()) return true;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    log::error("--credentials " + path + ": " + std::strerror(errno));
    return false;
  }
  if (readable_by_others(st.st_mode)) {
    log::error("--credentials " + path + " is readable by group or others; refusing it (chmod 600 " + path + ")");
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  std::string error;
  auto parsed = parse_credentials(text.str(), error);
  if (!parsed) {
    log::error("--credentials " + path + ": " + error);
    return false;
  }
  for (auto& [k, v] : *parsed) creds[k] = v;
  return true;
}

// The settings of a Twitter source; nullopt (logged) when its credentials are missing.
std::optional<stream_options> twitter_settings(const config& cfg, source_kind source, const credential_map& creds) {
  auto cred = [&](std::string_view k) {
    auto it = creds.find(k);
    return it == creds.end() ? std::string() : it->second;
  };
  stream_options s;
  s.mode = cfg.text;
  s.v1 = source == source_kind::twitter_v1;
  s.api_url = !cfg.api_url.empty() ? cfg.api_url : s.v1 ? "https://stream.twitter.com" : "https://api.twitter.com";
  while (!s.api_url.empty() && s.api_url.back() == '/') s.api_url.pop_back();
  s.rules = cfg.rules;
  s.stall_seconds = cfg.stall_timeout_s > 0 ? cfg.stall_timeout_s : stall_default(source);
  s.backoff_scale = cfg.backoff_scale;
  s.ca_file = cfg.ca_file;
  if (s.v1) {
    s.oauth = {cred("TWITTER_CONSUMER_KEY"), cred("TWITTER_CONSUMER_SECRET"), cred("TWITTER_ACCESS_TOKEN"),
               cred("TWITTER_ACCESS_SECRET")};
    if (s.oauth.consumer_key.empty() || s.oauth.consumer_secret.empty() || s.oauth.token.empty() ||
        s.oauth.token_secret.empty()) {
      log::error("--source twitter-v1 needs TWITTER_CONSUMER_KEY, TWITTER_CONSUMER_SECRET, TWITTER_ACCESS_TOKEN "
                 "and TWITTER_ACCESS_SECRET in the environment or --credentials");
      return std::nullopt;
    }
  } else {
    s.bearer_token = cred("TWITTER_BEARER_TOKEN");
    if (s.bearer_token.empty()) {
      log::error("--source twitter needs TWITTER_BEARER_TOKEN in the environment or --credentials");
      return std::nullopt;
    }
  }
  return s;
}

bool live(source_kind source) { return source == source_kind::bluesky || source == source_kind::mastodon; }

common::stats_line stats_of(const client_stats& s, const frame_queue& q, double tweets_per_second, source_kind source) {
  common::stats_line line;
  line.add("read", s.read.load())
      .add("sent", s.sent.load())
      .add("dropped", q.dropped())
      .add("skipped", s.skipped.load())
      .add("queued", q.frames())
      .add("engine_reconnects", s.engine_reconnects.load())
      .add("stream_reconnects", s.stream_reconnects.load())
      .add("tweets_per_s", tweets_per_second)
      .add("acked", s.acked.load());
  if (live(source)) line.add("ignored", s.ignored.load()).add("duplicates", s.duplicates.load()).add("other_lang", s.other_lang.load());
  return line;
}

// The client's metrics (docs/observability.md), read from the shared atomics at each scrape.
void collect(common::metrics::families& f, const client_stats& s, const frame_queue& q, const config& cfg,
             source_kind source) {
  const auto n = [](const std::atomic<std::uint64_t>& v) { return static_cast<double>(v.load(std::memory_order_relaxed)); };
  f.counter("trend_twitter_client_tweets_read_total", "Tweets taken from the source.", n(s.read))
      .counter("trend_twitter_client_tweets_sent_total", "Frames written whole to the engine (again after a resend).",
               n(s.sent))
      .counter("trend_twitter_client_tweets_dropped_total", "Frames dropped, oldest first, from the full queue.",
               static_cast<double>(q.dropped()))
      .counter("trend_twitter_client_tweets_skipped_total",
               "Source lines that are no tweet (torn, bad JSON) and texts too long for a 5-digit frame.", n(s.skipped))
      .counter("trend_twitter_client_tweets_acked_total", "Frames the engine acknowledged (--delivery acked).", n(s.acked))
      .counter("trend_twitter_client_tweets_lost_total", "Frames not delivered when the client gave up.", n(s.lost))
      .gauge("trend_twitter_client_queue_frames", "Frames waiting for the engine.", static_cast<double>(q.frames()))
      .gauge("trend_twitter_client_queue_bytes", "Bytes of frames waiting for the engine.", static_cast<double>(q.bytes()))
      .gauge("trend_twitter_client_queue_capacity_frames", "Frames the queue holds at most (--queue).",
             static_cast<double>(cfg.queue_frames))
      .gauge("trend_twitter_client_engine_connected", "1 while connected to the engine, else 0.",
             s.engine_connected.load() ? 1 : 0);
  for (std::size_t k = 0; k < 2; ++k)
    f.counter("trend_twitter_client_engine_reconnects_total",
              "Connections to the engine after the first, by how the last one ended: closed by the engine, or a "
              "write failed.",
              n(s.engine_reconnects_by[k]), {{"reason", k == 0 ? "closed" : "write_failed"}});
  for (std::size_t k = 0; k < stream_end_count; ++k)
    f.counter("trend_twitter_client_source_reconnects_total",
              "Connections to a live source (Twitter, Bluesky, Mastodon) after the first, by how the last one ended.",
              n(s.stream_reconnects_by[k]), {{"reason", name(static_cast<stream_end>(k))}});
  f.counter("trend_twitter_client_posts_ignored_total",
            "Live sources' events not forwarded: no new post (deletes, edits, boosts), a post seen before a "
            "reconnect, a post in none of the --lang languages.",
            n(s.ignored), {{"reason", "not_a_post"}})
      .counter("trend_twitter_client_posts_ignored_total", "", n(s.duplicates), {{"reason", "duplicate"}})
      .counter("trend_twitter_client_posts_ignored_total", "", n(s.other_lang), {{"reason", "other_language"}})
      .info("trend_twitter_client_source_info", "The source and the delivery, as labels.",
            {{"source", name(source)}, {"delivery", cfg.acknowledged ? "acked" : "plain"}});
}

// What the signal thread, the source thread and the stats loop share. The stop function holds it
// too, so a signal that comes while run() returns finds it alive.
struct lifecycle {
  std::atomic<bool> stop{false}, source_done{false};
  std::mutex mutex;
  std::condition_variable wake;

  void notify() {
    std::lock_guard lock(mutex);
    wake.notify_all();
  }
};

struct curl_global {
  curl_global() { curl_global_init(CURL_GLOBAL_DEFAULT); }
  ~curl_global() { curl_global_cleanup(); }
  curl_global(const curl_global&) = delete;
  curl_global& operator=(const curl_global&) = delete;
};

}  // namespace

int run(const config& cfg, common::stop_signals& signals) {
  credential_map creds;
  if (!load_credentials(cfg.credentials_file, creds)) return 2;
  const source_kind source =
      cfg.source != source_kind::automatic ? cfg.source : parse_source(default_source(creds)).value();
  stream_options stream;
  stream.mode = cfg.text;
  if (source == source_kind::twitter || source == source_kind::twitter_v1) {
    auto settings = twitter_settings(cfg, source, creds);
    if (!settings) return 2;
    stream = std::move(*settings);
  } else if (!cfg.rules.empty()) {
    log::warn("--rule only applies to --source twitter; ignored");
  }
  if (!cfg.langs.empty() && !live(source)) log::warn("--lang only applies to --source bluesky and mastodon; ignored");
  const double stall = cfg.stall_timeout_s > 0 ? cfg.stall_timeout_s : stall_default(source);
  bluesky_options bluesky{cfg.jetstream_url, lang_filter(cfg.langs), stall, cfg.backoff_scale, cfg.ca_file};
  mastodon_options mastodon{cfg.instance, cfg.stream, {}, lang_filter(cfg.langs), stall, cfg.backoff_scale, cfg.ca_file};
  while (!mastodon.instance.empty() && mastodon.instance.back() == '/') mastodon.instance.pop_back();
  if (source == source_kind::mastodon) {
    if (auto it = creds.find("MASTODON_TOKEN"); it != creds.end()) mastodon.token = it->second;
    if (mastodon.token.empty())
      log::info("mastodon: no MASTODON_TOKEN; most instances stream only to registered users (a 401 will say so)");
  }
  creds.clear();
  const double rate = effective_rate(cfg, source);

  auto life = std::make_shared<lifecycle>();
  signals.on_stop([life](int) {
    life->stop = true;
    life->notify();
  });

  const curl_global curl;
  client_stats stats;
  frame_queue queue(cfg.queue_frames, std::size_t{1} << 30);
  // The frames go to the engine link, or with --kafka each tweet to a Kafka topic (docs/scale-out.md).
  std::unique_ptr<engine_link> link;
  std::unique_ptr<kafka_producer> kafka;
  try {
    if (cfg.kafka.empty()) link = std::make_unique<engine_link>(cfg.engine, queue, stats, cfg.acknowledged, cfg.queue_frames);
    else kafka = std::make_unique<kafka_producer>(cfg, queue, stats);
  } catch (const std::runtime_error& e) {
    log::error(e.what());
    return 2;
  }
  std::thread sender([&] { link ? link->run() : kafka->run(); });
  std::optional<common::metrics::endpoint_thread> metrics;  // on a thread of its own: the counters are atomics
  if (cfg.metrics)
    metrics.emplace(*cfg.metrics, common::metrics::sources{std::make_shared<common::metrics::from_function>(
                                      [&](common::metrics::families& f) { collect(f, stats, queue, cfg, source); })});

  const std::string where = source == source_kind::bluesky  ? " (" + cfg.jetstream_url + ")"
                            : source == source_kind::mastodon ? " (" + mastodon.instance + ", stream " + cfg.stream + ")"
                            : cfg.file.empty()                ? ""
                                                              : " (" + cfg.file + ")";
  log::info(std::string("source ") + name(source) + where +
            (kafka ? ", kafka " + log::escape(cfg.kafka) + " topic " + cfg.kafka_topic : ", engine " + common::to_string(cfg.engine)) +
            (rate > 0 ? ", rate " + std::to_string(static_cast<long long>(rate)) + " tweets/s" : ", rate unlimited") +
            (cfg.limit ? ", limit " + std::to_string(cfg.limit) : ""));
  bool source_ok = true;
  std::thread source_thread([&] {
    frame_sink sink(queue, stats, life->stop, sink_options{rate, cfg.limit, cfg.wait_when_full});
    try {
      switch (source) {
        case source_kind::synthetic: run_synthetic(sink, cfg.seed, cfg.tags); break;
        case source_kind::replay: source_ok = run_replay(sink, stats, cfg.file, cfg.loop, cfg.text); break;
        case source_kind::standard_input: run_stdin(sink, life->stop); break;
        case source_kind::bluesky: source_ok = run_bluesky(sink, stats, life->stop, bluesky); break;
        case source_kind::mastodon: source_ok = run_mastodon(sink, stats, life->stop, mastodon); break;
        default: source_ok = run_twitter(sink, stats, life->stop, stream); break;
      }
    } catch (const std::exception& e) {
      log::error(std::string("source failed: ") + e.what());
      source_ok = false;
    }
    sink.flush();
    life->source_done = true;
    life->notify();
  });

  // Stats until the source ends or a signal arrives.
  const auto interval = cfg.flags.stats_interval();
  auto last_time = clock_type::now();
  std::uint64_t last_sent = 0;
  auto next_stats = interval.count() > 0 ? last_time + interval : clock_type::time_point::max();
  auto rate_since_last = [&](clock_type::time_point now) {
    const double secs = std::chrono::duration<double>(now - last_time).count();
    return secs > 0 ? static_cast<double>(stats.sent.load() - last_sent) / secs : 0.0;
  };
  while (!life->stop && !life->source_done) {
    std::unique_lock lock(life->mutex);
    life->wake.wait_until(lock, next_stats, [&] { return life->stop.load() || life->source_done.load(); });
    lock.unlock();
    const auto now = clock_type::now();
    if (now >= next_stats) {
      log::info(stats_of(stats, queue, rate_since_last(now), source).str());
      last_sent = stats.sent.load();
      last_time = now;
      next_stats = now + interval;
    }
  }

  // Drain: the whole drain timeout after a finished source, a quick flush after a signal.
  const double drain = life->stop ? std::min(cfg.drain_timeout_s, 2.0) : cfg.drain_timeout_s;
  if (life->stop)
    log::info(std::string("received ") + common::stop_signals::name(signals.received()) + ", flushing and stopping");
  queue.close();  // releases a source waiting for room (--queue-full wait); the link still drains
  source_thread.join();
  const auto give_up = clock_type::now() + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(drain));
  if (link) {
    link->source_finished();
    link->give_up_at(give_up);
  } else {
    kafka->source_finished();
    kafka->give_up_at(give_up);
  }
  sender.join();

  log::info("done: " + stats_of(stats, queue, rate_since_last(clock_type::now()), source).add("lost", stats.lost.load()).str());
  if (!source_ok) return 1;
  if (!life->stop && (stats.lost.load() > 0 || stats.unconfirmed.load() > 0)) return 1;
  return 0;
}

}  // namespace twitter_client
