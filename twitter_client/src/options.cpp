#include "twitter_client/options.hpp"

#include <CLI/CLI.hpp>

#include "common/kafka_settings.hpp"
#include "twitter_client/lang_filter.hpp"
#include "twitter_client/mastodon.hpp"
#include "twitter_client/url.hpp"

namespace twitter_client {

namespace {
constexpr std::pair<source_kind, const char*> source_names[] = {
    {source_kind::synthetic, "synthetic"}, {source_kind::replay, "replay"},   {source_kind::standard_input, "stdin"},
    {source_kind::twitter, "twitter"},     {source_kind::twitter_v1, "twitter-v1"}, {source_kind::bluesky, "bluesky"},
    {source_kind::mastodon, "mastodon"},
};
}  // namespace

const char* name(source_kind kind) {
  for (const auto& [k, n] : source_names)
    if (k == kind) return n;
  return "automatic";
}

std::optional<source_kind> parse_source(std::string_view word) {
  for (const auto& [k, n] : source_names)
    if (word == n) return k;
  return std::nullopt;
}

double stall_default(source_kind resolved) {
  switch (resolved) {
    case source_kind::twitter_v1: return 90;
    case source_kind::bluesky: return 30;
    case source_kind::mastodon: return 45;
    default: return 20;
  }
}

double effective_rate(const config& cfg, source_kind resolved) {
  if (cfg.rate >= 0) return cfg.rate;
  return resolved == source_kind::synthetic ? 1000 : 0;
}

common::cli::outcome<config> parse_options(int argc, const char* const* argv) {
  CLI::App app{
      "twitter_client: forwards tweet texts to the engine as 5-digit length-framed messages.\n"
      "Credentials come from the environment (TWITTER_BEARER_TOKEN, or TWITTER_CONSUMER_KEY,\n"
      "TWITTER_CONSUMER_SECRET, TWITTER_ACCESS_TOKEN, TWITTER_ACCESS_SECRET; MASTODON_TOKEN) or\n"
      "--credentials, never from the command line. Bluesky needs no account.",
      "twitter_client"};
  config cfg;
  std::string source, queue_full = "drop", text = "full";
  app.add_option("--source", source,
                 "synthetic | replay | stdin | twitter (API v2) | twitter-v1 (statuses/filter) | bluesky "
                 "(Jetstream) | mastodon (streaming API); default: twitter with a bearer token, twitter-v1 "
                 "with OAuth 1.0a keys, else synthetic")
      ->check(CLI::IsMember({"synthetic", "replay", "stdin", "twitter", "twitter-v1", "bluesky", "mastodon"}));
  common::cli::add_address(app, "--engine", cfg.engine, "engine address HOST:PORT");
  app.add_option("--file", cfg.file, "replay: JSONL file of v1.1 statuses or v2 {\"data\": ...} messages");
  app.add_option("--rate", cfg.rate,
                 "tweets per second, 0 = as fast as possible (default: synthetic 1000, others 0)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--limit", cfg.limit, "stop after N tweets, 0 = no limit")->capture_default_str();
  app.add_flag("--loop", cfg.loop, "replay: start the file over at its end");
  app.add_option("--seed", cfg.seed, "synthetic: seed; one seed gives the same tweets everywhere")
      ->capture_default_str();
  app.add_option("--tags", cfg.tags, "synthetic: hashtag vocabulary size (Zipf-distributed)")
      ->check(CLI::Range(std::size_t{1}, synthetic_tweets::max_tags))
      ->capture_default_str();
  app.add_option("--rule", cfg.rules, "twitter: a filtered-stream rule (repeatable); replaces the existing rules");
  app.add_option("--api-url", cfg.api_url,
                 "Twitter base URL (default https://api.twitter.com, v1: https://stream.twitter.com)");
  app.add_option("--credentials", cfg.credentials_file,
                 "KEY=VALUE file with the TWITTER_* values or MASTODON_TOKEN (mode 600)");
  app.add_option("--jetstream-url", cfg.jetstream_url, "bluesky: the Jetstream subscribe URL (wss:// or ws://)")
      ->check([](const std::string& u) {
        const auto parts = split_url(u);
        return parts && (parts->scheme == "ws" || parts->scheme == "wss") ? "" : "not a ws:// or wss:// URL: " + u;
      })
      ->capture_default_str();
  app.add_option("--instance", cfg.instance, "mastodon: the instance's base URL (https://)")
      ->check([](const std::string& u) {
        const auto parts = split_url(u);
        return parts && (parts->scheme == "http" || parts->scheme == "https") ? "" : "not an https:// URL: " + u;
      })
      ->capture_default_str();
  app.add_option("--stream", cfg.stream, "mastodon: public | public:local | hashtag:TAG")
      ->check([](const std::string& s) {
        return mastodon::stream_target(s) ? "" : "not public, public:local or hashtag:TAG: " + s;
      })
      ->capture_default_str();
  app.add_option("--lang", cfg.langs,
                 "bluesky, mastodon: forward only posts in this language (repeatable; en takes en-US)")
      ->check([](const std::string& c) { return valid_lang_code(c) ? "" : "not a language code: " + c; });
  app.add_option("--ca-file", cfg.ca_file, "trust the CA certificates of this PEM file for every TLS source")
      ->check(CLI::ExistingFile);
  app.add_option("--stall-timeout", cfg.stall_timeout_s,
                 "seconds without data before reconnecting (default 90 v1, 20 v2, 30 bluesky, 45 mastodon)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--queue", cfg.queue_frames, "frames held while the engine is slow or away")
      ->check(CLI::Range(std::size_t{1}, std::size_t{100'000'000}))
      ->capture_default_str();
  std::string delivery = "plain";
  app.add_option("--delivery", delivery,
                 "plain: frames only, as the original client writes them; acked: our engine acknowledges\n"
                 "frames once it holds them (durably with its --state-dir), and the client keeps them\n"
                 "until then and sends them again after a reconnect: each tweet counted once (an engine\n"
                 "that does not acknowledge, the original, gets plain frames)")
      ->type_name("HOW")
      ->capture_default_str()
      ->check(CLI::IsMember({"plain", "acked"}));
  app.add_option("--queue-full", queue_full, "when the queue is full: drop the oldest frames, or wait")
      ->check(CLI::IsMember({"drop", "wait"}))
      ->capture_default_str();
  app.add_option("--drain-timeout", cfg.drain_timeout_s, "seconds to deliver what is queued once the source ends")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--text", text, "full: the whole text; original: only `text`, as twitter_client.py")
      ->check(CLI::IsMember({"full", "original"}))
      ->capture_default_str();
  common::cli::add_address(app, "--metrics", cfg.metrics,
                           "serve Prometheus metrics at http://HOST:PORT/metrics (off by default)");
  auto* kafka = app.add_option_group("kafka", "Into Kafka instead of to an engine (docs/scale-out.md)");
  kafka->add_option("--kafka", cfg.kafka,
                    "Kafka bootstrap servers (HOST:PORT,...): produce each tweet's text to --topic\n"
                    "(idempotent, acks=all) instead of framing it to --engine")
      ->type_name("BROKERS");
  kafka->add_option("--topic", cfg.kafka_topic, "the topic the tweets go to")->type_name("TOPIC")->capture_default_str();
  kafka->add_option("--kafka-option", cfg.kafka_options,
                    "a librdkafka setting KEY=VALUE (repeatable), e.g. security.protocol=SASL_SSL\n"
                    "(no passwords: see --kafka-config)")
      ->type_name("KEY=VALUE");
  kafka->add_option("--kafka-config", cfg.kafka_config,
                    "a file of librdkafka settings, KEY=VALUE per line (# comments), read before the\n"
                    "--kafka-options; the place for sasl.password and other secrets (chmod 600)")
      ->type_name("FILE");
  common::cli::add_common_flags(app, cfg.flags);
  // For tests: shrinks Twitter's reconnect delays (60 s after a 429 is too long for a test).
  app.add_option("--backoff-scale", cfg.backoff_scale, "")->group("")->check(CLI::PositiveNumber);

  if (auto stop = common::cli::parse(app, argc, argv)) return {std::nullopt, *stop};
  cfg.source = source.empty() ? source_kind::automatic : *parse_source(source);
  cfg.wait_when_full = queue_full == "wait";
  cfg.acknowledged = delivery == "acked";
  cfg.text = text == "original" ? text_mode::original : text_mode::full;
  for (const auto& o : cfg.kafka_options) {
    std::string why;
    if (!common::kafka_settings::parse_option(o, why)) {
      app.exit(CLI::ValidationError("--kafka-option", why));
      return {std::nullopt, 2};
    }
  }
  if (!cfg.kafka.empty() && cfg.kafka_topic.empty()) {
    app.exit(CLI::ValidationError("--topic", "is empty"));
    return {std::nullopt, 2};
  }
  if (cfg.source == source_kind::replay && cfg.file.empty()) {
    app.exit(CLI::ValidationError("--source replay needs --file"));
    return {std::nullopt, 2};
  }
  return {std::move(cfg), 0};
}

}  // namespace twitter_client
