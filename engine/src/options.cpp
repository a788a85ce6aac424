#include "engine/options.hpp"

#include "common/duration.hpp"
#include "common/kafka_settings.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>

#include <cstdint>
#include <list>
#include <sstream>
#include <utility>

namespace engine {

namespace {

/// Slides per window at most: each is a slot of the window's ring.
constexpr std::int64_t max_slots = 100'000;

std::vector<common::host_port> parse_address_list(const std::string& text) {
  // Wallaroo takes comma-separated lists (one address per pipeline source).
  std::vector<common::host_port> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    auto hp = common::parse_host_port(item);
    if (!hp) throw CLI::ValidationError("--in", "'" + item + "' is not HOST:PORT (or [IPv6]:PORT)");
    out.push_back(*hp);
  }
  if (out.empty()) throw CLI::ValidationError("--in", "no address given");
  return out;
}

}  // namespace

std::string describe_state_settings(const config& cfg) {
  std::string out = "window=" + common::format_duration(cfg.window);
  if (cfg.window.count() > 0) out += " slide=" + common::format_duration(cfg.slide);
  out += cfg.score == score_kind::trend ? " score=trend min-count=" + std::to_string(cfg.min_count) : " score=count";
  out += cfg.hashtags == hashtag_rule::twitter_text ? " hashtags=twitter-text" : " hashtags=python";
  out += cfg.normalize == normalization::nfkc_lower ? " normalize=nfkc-lower" : " normalize=none";
  return out;
}

std::string describe_counting(const config& cfg) {
  std::string out = cfg.window.count() == 0 ? "all-time" : "last " + common::format_duration(cfg.window);
  if (cfg.window.count() > 0) out += " (slides of " + common::format_duration(cfg.slide) + ")";
  out += cfg.score == score_kind::trend ? ", trend score (min count " + std::to_string(cfg.min_count) + ")" : ", count";
  out += cfg.hashtags == hashtag_rule::twitter_text ? ", twitter-text hashtags" : ", hashtags by the original's rule";
  if (cfg.normalize == normalization::nfkc_lower) out += ", NFKC + lowercase";
  out += cfg.emit == emit_policy::on_change ? ", a record when the top " + std::to_string(cfg.top) + " changes"
                                            : ", a record per hashtag";
  return out;
}

common::cli::outcome<config> parse_options(int argc, const char* const* argv) {
  CLI::App app{
      "engine: the trending-hashtags stream processor.\n"
      "Reads tweets (5-digit framed, as twitter_client sends them, or one per line), counts every\n"
      "white-space-delimited word that starts with '#', and for each hashtag sends the all-time\n"
      "top N to the receiver as a ';;'-terminated record, byte for byte as the original\n"
      "Wallaroo application did.",
      "engine"};
  std::string in_text = "127.0.0.1:8002";
  config cfg;
  std::string format = "framed";
  app.add_option("--in", in_text, "HOST:PORT to listen on for tweets (comma-separated for several)")
      ->type_name("HOST:PORT")
      ->capture_default_str();
  common::cli::add_address(app, "--out", cfg.out, "HOST:PORT of the receiver to connect to and send records");
  app.add_option("--top", cfg.top, "How many hashtags each record lists")
      ->type_name("N")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  app.add_option("--input-format", format,
                 "framed: 5-digit length then payload (twitter_client, the original client);\n"
                 "lines: one tweet per line (for typing into nc)")
      ->type_name("FORMAT")
      ->capture_default_str()
      ->check(CLI::IsMember({"framed", "lines"}));
  double receiver_timeout_s = 3, idle_timeout_s = 0;
  app.add_option("--receiver-timeout", receiver_timeout_s,
                 "Seconds a receiver may take no bytes while records wait before it is treated as gone:\n"
                 "closed, reconnected with back-off, sent the newest record first (0: wait for ever)")
      ->type_name("SECONDS")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 86400.0));
  app.add_option("--idle-timeout", idle_timeout_s,
                 "Close a source connection that completes no message for this many seconds (0: never)")
      ->type_name("SECONDS")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 86400.0));
  std::string hashtags = "python", normalize = "none", window = "0", slide, score = "count", emit = "every-event";
  auto* trending = app.add_option_group("trending", "Trending now, not only all-time (the defaults are the original's)");
  trending->add_option("--hashtags", hashtags,
                       "python: the original's rule, any white-space-delimited word starting with '#';\n"
                       "twitter-text: what Twitter's twitter-text library extracts ('#C++' counts as '#C')")
      ->type_name("RULE")
      ->capture_default_str()
      ->check(CLI::IsMember({"python", "twitter-text"}));
  trending->add_option("--normalize", normalize,
                       "none: count exact spellings; nfkc-lower: count each hashtag under its Unicode NFKC\n"
                       "form in lowercase, shown with the spelling seen first")
      ->type_name("RULE")
      ->capture_default_str()
      ->check(CLI::IsMember({"none", "nfkc-lower"}));
  trending->add_option("--window", window,
                       "Count over the last DURATION of processing time (500ms, 10s, 5m, 1h); 0: all-time")
      ->type_name("DURATION")
      ->capture_default_str();
  trending->add_option("--slide", slide, "How often the window moves on (default: window/60, at least 1ms)")
      ->type_name("DURATION");
  trending->add_option("--score", score,
                       "count: occurrences in the window; trend: Mastodon's (o - e)^2 / e against the window\n"
                       "before (needs --window)")
      ->type_name("SCORE")
      ->capture_default_str()
      ->check(CLI::IsMember({"count", "trend"}));
  trending->add_option("--min-count", cfg.min_count, "trend: the least count in the window that can score")
      ->type_name("N")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 40));
  trending->add_option("--emit", emit,
                       "every-event: one record per hashtag (the original); on-change: a record only when\n"
                       "the top N (its hashtags or numbers) changed")
      ->type_name("WHEN")
      ->capture_default_str()
      ->check(CLI::IsMember({"every-event", "on-change"}));
  std::string fsync = "interval", fsync_interval = "50ms", checkpoint_interval = "1m";
  auto* durable = app.add_option_group("durable state", "Nothing lost (off by default: the original kept memory only)");
  durable->add_option("--state-dir", cfg.state_dir,
                      "Keep the whole state in DIR: a crash or a kill -9 loses nothing acknowledged, and\n"
                      "an engine started again on DIR goes on from where it was")
      ->type_name("DIR");
  durable->add_option("--fsync", fsync,
                      "always: flush every batch to the disk before acknowledging it; interval: every\n"
                      "--fsync-interval (group commit); never: leave it to the kernel (survives a\n"
                      "kill -9, not a power cut)")
      ->type_name("WHEN")
      ->capture_default_str()
      ->check(CLI::IsMember({"always", "interval", "never"}));
  durable->add_option("--fsync-interval", fsync_interval, "How often the log is flushed with --fsync interval")
      ->type_name("DURATION")
      ->capture_default_str();
  durable->add_option("--checkpoint-interval", checkpoint_interval,
                      "How often a snapshot of the whole state is written (the log behind it is cut)")
      ->type_name("DURATION")
      ->capture_default_str();
  durable->add_flag("--dump-state", cfg.dump_state,
                    "Print the state held in --state-dir (a JSON line per hashtag, first seen first) and exit");
  common::cli::add_address(app, "--metrics", cfg.metrics,
                           "Serve Prometheus metrics at http://HOST:PORT/metrics (machida's flag; off when absent).\n"
                           "An address that cannot be bound is a warning: the engine goes on without metrics")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  auto* kafka = app.add_option_group("kafka", "Beyond one machine: engines in a Kafka consumer group (docs/scale-out.md)");
  kafka->add_option("--kafka", cfg.kafka,
                    "Kafka bootstrap servers (HOST:PORT,...): read tweets from --topic in consumer group\n"
                    "--group with the other engines, together write one exact record stream to --out")
      ->type_name("BROKERS");
  kafka->add_option("--topic", cfg.kafka_topic, "The tweets topic")->type_name("TOPIC")->capture_default_str();
  kafka->add_option("--group", cfg.kafka_group, "The consumer group; also the prefix of the internal topics")
      ->type_name("GROUP")
      ->capture_default_str();
  kafka->add_option("--partitions", cfg.kafka_partitions,
                    "Partitions of <group>-hashtags and <group>-state when the engine creates them")
      ->type_name("N")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  kafka->add_option("--kafka-option", cfg.kafka_options,
                    "A librdkafka setting KEY=VALUE for every client (repeatable), e.g.\n"
                    "security.protocol=SASL_SSL, session.timeout.ms=10000 (no passwords: see --kafka-config)")
      ->type_name("KEY=VALUE");
  kafka->add_option("--kafka-config", cfg.kafka_config,
                    "A file of librdkafka settings, KEY=VALUE per line (# comments), read before the\n"
                    "--kafka-options; the place for sasl.password and other secrets (chmod 600)")
      ->type_name("FILE");
  common::cli::add_common_flags(app, cfg.flags);

  // machida's command line from the tutorial, accepted unchanged and ignored (but --metrics,
  // above): this engine has the application built in, one worker, no cluster.
  auto* compat = app.add_option_group("machida compatibility",
                                      "Accepted so that machida's command line works unchanged; ignored.");
  std::vector<std::string> seen;
  std::list<std::vector<std::string>> values;  // one store per option, at a stable address
  std::vector<std::pair<std::string, std::vector<std::string>*>> valued;
  for (const char* name : {"--application-module", "--control", "--data", "--worker-name", "--name",
                           "--external", "--resilience-dir", "--join", "--worker-count", "--my-control",
                           "--my-data", "--event-log-file-size", "--spike-seed", "--spike-drop", "--spike-delay",
                           "--ponythreads", "--ponyminthreads", "--ponycdmin", "--ponycdmax", "--ponycdconf",
                           "--ponygcinitial", "--ponygcfactor"}) {
    auto& store = values.emplace_back();
    compat->add_option(name, store, "machida's " + std::string(name) + "; ignored")->type_name("VALUE");
    valued.emplace_back(name, &store);
  }
  std::list<std::int64_t> flag_counts;
  std::vector<std::pair<std::string, std::int64_t*>> flags;
  for (const char* name : {"--cluster-initializer", "--log-rotation", "--run-with-resilience", "--ponynoblock",
                           "--ponypin", "--ponypinasio", "--ponynoyield", "--ponynoscale"}) {
    auto& count = flag_counts.emplace_back(0);
    compat->add_flag(name, count, "machida's " + std::string(name) + "; ignored");
    flags.emplace_back(name, &count);
  }

  if (auto stop = common::cli::parse(app, argc, argv)) return {std::nullopt, *stop};
  try {
    cfg.in = parse_address_list(in_text);
  } catch (const CLI::ParseError& e) {
    return {std::nullopt, app.exit(e) == 0 ? 0 : 2};
  }
  cfg.format = format == "lines" ? input_format::lines : input_format::framed;
  cfg.hashtags = hashtags == "twitter-text" ? hashtag_rule::twitter_text : hashtag_rule::python;
  cfg.normalize = normalize == "nfkc-lower" ? normalization::nfkc_lower : normalization::none;
  cfg.score = score == "trend" ? score_kind::trend : score_kind::count;
  cfg.emit = emit == "on-change" ? emit_policy::on_change : emit_policy::every_event;
  auto usage = [&app](const std::string& option, const std::string& why) {
    return common::cli::outcome<config>{std::nullopt, app.exit(CLI::ValidationError(option, why)) == 0 ? 0 : 2};
  };
  const auto window_ns = common::parse_duration(window);
  if (!window_ns) return usage("--window", "'" + window + "' is not a duration such as 500ms, 10s, 5m, 1h or 0");
  cfg.window = *window_ns;
  if (!slide.empty()) {
    const auto slide_ns = common::parse_duration(slide);
    if (!slide_ns || *slide_ns < std::chrono::milliseconds(1))
      return usage("--slide", "'" + slide + "' is not a duration of at least 1ms");
    if (cfg.window.count() == 0) return usage("--slide", "needs --window");
    if (*slide_ns > cfg.window) return usage("--slide", "is longer than the window");
    if (cfg.window / *slide_ns > max_slots)
      return usage("--slide", "makes more than " + std::to_string(max_slots) + " slides per window");
    cfg.slide = *slide_ns;
  } else if (cfg.window.count() > 0) {
    cfg.slide = std::max<std::chrono::nanoseconds>(cfg.window / 60, std::chrono::milliseconds(1));
    if (cfg.slide > cfg.window) cfg.slide = cfg.window;
  }
  cfg.fsync = fsync == "always" ? fsync_policy::always : fsync == "never" ? fsync_policy::never : fsync_policy::interval;
  const auto fsync_every = common::parse_duration(fsync_interval);
  if (!fsync_every || *fsync_every < std::chrono::milliseconds(1) || *fsync_every > std::chrono::minutes(1))
    return usage("--fsync-interval", "'" + fsync_interval + "' is not a duration from 1ms to 1m");
  cfg.fsync_interval = std::chrono::duration_cast<std::chrono::milliseconds>(*fsync_every);
  const auto checkpoint_every = common::parse_duration(checkpoint_interval);
  if (!checkpoint_every || *checkpoint_every < std::chrono::milliseconds(100))
    return usage("--checkpoint-interval", "'" + checkpoint_interval + "' is not a duration of at least 100ms");
  cfg.checkpoint_interval = std::chrono::duration_cast<std::chrono::milliseconds>(*checkpoint_every);
  if (cfg.dump_state && cfg.state_dir.empty()) return usage("--dump-state", "needs --state-dir");
  if (!cfg.kafka.empty() && !cfg.state_dir.empty())
    return usage("--state-dir", "with --kafka the state lives in Kafka (<group>-state), not in a directory");
  for (const auto& o : cfg.kafka_options) {
    std::string why;
    if (!common::kafka_settings::parse_option(o, why)) return usage("--kafka-option", why);
  }
  if (!cfg.kafka.empty() && (cfg.kafka_topic.empty() || cfg.kafka_group.empty()))
    return usage("--kafka", "needs a --topic and a --group");
  if (cfg.score == score_kind::trend && cfg.window.count() == 0)
    return usage("--score", "trend compares a window with the one before it: it needs --window");
  cfg.receiver_timeout = std::chrono::milliseconds(static_cast<long long>(receiver_timeout_s * 1000));
  cfg.idle_timeout = std::chrono::milliseconds(static_cast<long long>(idle_timeout_s * 1000));
  for (const auto& [name, store] : valued)
    for (const auto& v : *store) seen.push_back(name + "=" + v);
  for (const auto& [name, count] : flags)
    for (std::int64_t k = 0; k < *count; ++k) seen.push_back(name);
  cfg.machida_options = std::move(seen);
  return {std::move(cfg), 0};
}

}  // namespace engine
