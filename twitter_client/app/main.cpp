// twitter_client: reads tweets (Twitter API v2 or v1.1 stream, a JSONL replay, stdin, or a
// synthetic generator) and forwards each text to the engine as a 5-digit length-framed message.
#include <CLI/CLI.hpp>
#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "common/log.hpp"
#include "engine_link.hpp"
#include "sources.hpp"
#include "twitter_client/credentials.hpp"
#include "twitter_client/synthetic.hpp"
#include "twitter_stream.hpp"
#include "common/hostport.hpp"

using namespace twitter_client;
namespace tlog = common::log;

namespace {

using clock_type = std::chrono::steady_clock;

struct settings {
  std::string source;
  std::string engine = "127.0.0.1:8002";
  std::string file;
  double rate = -1;  // -1: the source's default
  std::uint64_t limit = 0;
  bool loop = false;
  std::uint64_t seed = 1;
  std::size_t tags = synthetic_tweets::default_tags;
  std::vector<std::string> rules;
  std::string api_url;
  std::string credentials_file;
  double stall_timeout = 0;  // 0: 90 s for v1.1, 20 s for v2
  std::size_t queue_frames = 100'000;
  std::string queue_full = "drop";
  double drain_timeout = 10;
  double stats_interval = 10;
  std::string text = "full";
  std::string log_level = "info";
  double backoff_scale = 1.0;
};

// Environment first, then the --credentials file (which wins).
bool load_credentials(const std::string& path, credential_map& creds) {
  for (auto name : credential_names)
    if (const char* v = std::getenv(std::string(name).c_str()); v != nullptr && *v != '\0')
      creds[std::string(name)] = v;
  if (path.empty()) return true;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    tlog::error("--credentials " + path + ": " + std::strerror(errno));
    return false;
  }
  if (readable_by_others(st.st_mode)) {
    tlog::error("--credentials " + path + " is readable by group or others; refusing it (chmod 600 " + path + ")");
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  std::string error;
  auto parsed = parse_credentials(text.str(), error);
  if (!parsed) {
    tlog::error("--credentials " + path + ": " + error);
    return false;
  }
  for (auto& [k, v] : *parsed) creds[k] = v;
  return true;
}

std::string stats_line(const client_stats& s, const frame_queue& q, double rate) {
  char rate_text[32];
  std::snprintf(rate_text, sizeof rate_text, "%.0f", rate);
  return "stats: read " + std::to_string(s.read.load()) + ", sent " + std::to_string(s.sent.load()) + ", dropped " +
         std::to_string(q.dropped()) + ", skipped " + std::to_string(s.skipped.load()) + ", queued " +
         std::to_string(q.frames()) + ", reconnects engine " + std::to_string(s.engine_reconnects.load()) +
         " stream " + std::to_string(s.stream_reconnects.load()) + ", rate " + rate_text + " tweets/s";
}

}  // namespace

int main(int argc, char** argv) {
  tlog::set_program("twitter_client");
  settings o;
  CLI::App app{
      "twitter_client: forwards tweet texts to the engine as 5-digit length-framed messages.\n"
      "Credentials come from the environment (TWITTER_BEARER_TOKEN, or TWITTER_CONSUMER_KEY,\n"
      "TWITTER_CONSUMER_SECRET, TWITTER_ACCESS_TOKEN, TWITTER_ACCESS_SECRET) or --credentials,\n"
      "never from the command line."};
  app.add_option("--source", o.source,
                 "synthetic | replay | stdin | twitter (API v2) | twitter-v1 (statuses/filter); "
                 "default: twitter with a bearer token, twitter-v1 with OAuth 1.0a keys, else synthetic")
      ->check(CLI::IsMember({"synthetic", "replay", "stdin", "twitter", "twitter-v1"}));
  app.add_option("--engine", o.engine, "engine address HOST:PORT")->capture_default_str();
  app.add_option("--file", o.file, "replay: JSONL file of v1.1 statuses or v2 {\"data\": ...} messages");
  app.add_option("--rate", o.rate, "tweets per second, 0 = as fast as possible (default: synthetic 1000, others 0)");
  app.add_option("--limit", o.limit, "stop after N tweets, 0 = no limit")->capture_default_str();
  app.add_flag("--loop", o.loop, "replay: start the file over at its end");
  app.add_option("--seed", o.seed, "synthetic: seed; one seed gives the same tweets everywhere")->capture_default_str();
  app.add_option("--tags", o.tags, "synthetic: hashtag vocabulary size (Zipf-distributed)")
      ->check(CLI::Range(std::size_t{1}, synthetic_tweets::max_tags))
      ->capture_default_str();
  app.add_option("--rule", o.rules, "twitter: a filtered-stream rule (repeatable); replaces the existing rules");
  app.add_option("--api-url", o.api_url,
                 "Twitter base URL (default https://api.twitter.com, v1: https://stream.twitter.com)");
  app.add_option("--credentials", o.credentials_file, "KEY=VALUE file with the TWITTER_* values (mode 600)");
  app.add_option("--stall-timeout", o.stall_timeout, "seconds without a byte before reconnecting (default 90 v1, 20 v2)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--queue", o.queue_frames, "frames held while the engine is slow or away")
      ->check(CLI::Range(std::size_t{1}, std::size_t{100'000'000}))
      ->capture_default_str();
  app.add_option("--queue-full", o.queue_full, "when the queue is full: drop the oldest frames, or wait")
      ->check(CLI::IsMember({"drop", "wait"}))
      ->capture_default_str();
  app.add_option("--drain-timeout", o.drain_timeout, "seconds to deliver what is queued once the source ends")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--stats-interval", o.stats_interval, "seconds between stats lines, 0 = none")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--text", o.text, "full: the whole text; original: only `text`, as twitter_client.py")
      ->check(CLI::IsMember({"full", "original"}))
      ->capture_default_str();
  app.add_option("--log-level", o.log_level, "debug | info | warn | error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}))
      ->capture_default_str();
  // For tests: shrinks Twitter's reconnect delays (60 s after a 429 is too long for a test).
  app.add_option("--backoff-scale", o.backoff_scale, "")->group("")->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);

  tlog::set_level(o.log_level == "debug"  ? tlog::level::debug
                 : o.log_level == "warn" ? tlog::level::warn
                 : o.log_level == "error" ? tlog::level::error
                                          : tlog::level::info);
  const auto engine = common::parse_host_port(o.engine);
  if (!engine) {
    tlog::error("--engine " + o.engine + " is not HOST:PORT");
    return 2;
  }
  credential_map creds;
  if (!load_credentials(o.credentials_file, creds)) return 2;
  if (o.source.empty()) o.source = default_source(creds);
  auto cred = [&](std::string_view k) {
    auto it = creds.find(k);
    return it == creds.end() ? std::string() : it->second;
  };
  stream_options stream;
  stream.mode = o.text == "original" ? text_mode::original : text_mode::full;
  if (o.source == "replay" && o.file.empty()) {
    tlog::error("--source replay needs --file");
    return 2;
  }
  if (o.source == "twitter" || o.source == "twitter-v1") {
    stream.v1 = o.source == "twitter-v1";
    stream.api_url = !o.api_url.empty() ? o.api_url : stream.v1 ? "https://stream.twitter.com" : "https://api.twitter.com";
    while (!stream.api_url.empty() && stream.api_url.back() == '/') stream.api_url.pop_back();
    stream.rules = o.rules;
    stream.stall_seconds = o.stall_timeout > 0 ? o.stall_timeout : stream.v1 ? 90 : 20;
    stream.backoff_scale = o.backoff_scale;
    if (stream.v1) {
      stream.oauth = {cred("TWITTER_CONSUMER_KEY"), cred("TWITTER_CONSUMER_SECRET"), cred("TWITTER_ACCESS_TOKEN"),
                      cred("TWITTER_ACCESS_SECRET")};
      if (stream.oauth.consumer_key.empty() || stream.oauth.consumer_secret.empty() || stream.oauth.token.empty() ||
          stream.oauth.token_secret.empty()) {
        tlog::error("--source twitter-v1 needs TWITTER_CONSUMER_KEY, TWITTER_CONSUMER_SECRET, TWITTER_ACCESS_TOKEN "
                   "and TWITTER_ACCESS_SECRET in the environment or --credentials");
        return 2;
      }
    } else {
      stream.bearer_token = cred("TWITTER_BEARER_TOKEN");
      if (stream.bearer_token.empty()) {
        tlog::error("--source twitter needs TWITTER_BEARER_TOKEN in the environment or --credentials");
        return 2;
      }
    }
  } else if (!o.rules.empty()) {
    tlog::warn("--rule only applies to --source twitter; ignored");
  }
  if (o.rate < 0) o.rate = o.source == "synthetic" ? 1000 : 0;

  // Signals go to one thread that only sets the stop flag: every other thread keeps them blocked.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  std::atomic<bool> stop{false}, source_done{false};
  std::atomic<int> stop_signal{0};
  std::mutex wake_mutex;
  std::condition_variable wake;
  std::thread([&] {
    int sig = 0;
    if (sigwait(&signals, &sig) == 0) {
      stop_signal = sig;
      stop = true;
      std::lock_guard lock(wake_mutex);
      wake.notify_all();
    }
  }).detach();

  curl_global_init(CURL_GLOBAL_DEFAULT);
  client_stats stats;
  frame_queue queue(o.queue_frames, std::size_t{1} << 30);
  engine_link link(*engine, queue, stats);
  std::thread sender([&] { link.run(); });

  tlog::info("source " + o.source + (o.file.empty() ? "" : " (" + o.file + ")") + ", engine " + o.engine +
            (o.rate > 0 ? ", rate " + std::to_string(static_cast<long long>(o.rate)) + " tweets/s" : ", rate unlimited") +
            (o.limit ? ", limit " + std::to_string(o.limit) : ""));
  bool source_ok = true;
  std::thread source([&] {
    sink_options so{o.rate, o.limit, o.queue_full == "wait"};
    frame_sink sink(queue, stats, stop, so);
    try {
      if (o.source == "synthetic") run_synthetic(sink, o.seed, o.tags);
      else if (o.source == "replay") source_ok = run_replay(sink, stats, o.file, o.loop, stream.mode);
      else if (o.source == "stdin") run_stdin(sink, stop);
      else source_ok = run_twitter(sink, stats, stop, stream);
    } catch (const std::exception& e) {
      tlog::error(std::string("source failed: ") + e.what());
      source_ok = false;
    }
    sink.flush();
    source_done = true;
    std::lock_guard lock(wake_mutex);
    wake.notify_all();
  });

  // Stats until the source ends or a signal arrives.
  auto last_time = clock_type::now();
  std::uint64_t last_sent = 0;
  const auto interval = std::chrono::duration_cast<clock_type::duration>(
      std::chrono::duration<double>(o.stats_interval > 0 ? o.stats_interval : 3600.0));
  auto next_stats = last_time + interval;
  while (!stop && !source_done) {
    std::unique_lock lock(wake_mutex);
    wake.wait_until(lock, next_stats, [&] { return stop.load() || source_done.load(); });
    lock.unlock();
    const auto now = clock_type::now();
    if (o.stats_interval > 0 && now >= next_stats) {
      const std::uint64_t sent = stats.sent.load();
      const double secs = std::chrono::duration<double>(now - last_time).count();
      tlog::info(stats_line(stats, queue, secs > 0 ? static_cast<double>(sent - last_sent) / secs : 0));
      last_sent = sent;
      last_time = now;
      next_stats = now + interval;
    }
  }

  // Drain: the whole drain timeout after a finished source, a quick flush after a signal.
  const double drain = stop ? std::min(o.drain_timeout, 2.0) : o.drain_timeout;
  if (stop) tlog::info(std::string("received ") + (stop_signal == SIGINT ? "SIGINT" : "SIGTERM") + ", flushing and stopping");
  queue.close();  // releases a source waiting for room (--queue-full wait); pop still drains
  source.join();
  link.source_finished();
  link.give_up_at(clock_type::now() + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(drain)));
  sender.join();
  curl_global_cleanup();

  const double secs = std::chrono::duration<double>(clock_type::now() - last_time).count();
  tlog::info("done: " + stats_line(stats, queue, secs > 0 ? static_cast<double>(stats.sent.load() - last_sent) / secs : 0) +
            ", lost " + std::to_string(stats.lost.load()));
  if (!source_ok) return 1;
  if (!stop && stats.lost.load() > 0) return 1;
  return 0;
}
