#include "twitter_client/options.hpp"

#include <CLI/CLI.hpp>

namespace twitter_client {

namespace {
constexpr std::pair<source_kind, const char*> source_names[] = {
    {source_kind::synthetic, "synthetic"}, {source_kind::replay, "replay"},   {source_kind::standard_input, "stdin"},
    {source_kind::twitter, "twitter"},     {source_kind::twitter_v1, "twitter-v1"},
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

double effective_rate(const config& cfg, source_kind resolved) {
  if (cfg.rate >= 0) return cfg.rate;
  return resolved == source_kind::synthetic ? 1000 : 0;
}

common::cli::outcome<config> parse_options(int argc, const char* const* argv) {
  CLI::App app{
      "twitter_client: forwards tweet texts to the engine as 5-digit length-framed messages.\n"
      "Credentials come from the environment (TWITTER_BEARER_TOKEN, or TWITTER_CONSUMER_KEY,\n"
      "TWITTER_CONSUMER_SECRET, TWITTER_ACCESS_TOKEN, TWITTER_ACCESS_SECRET) or --credentials,\n"
      "never from the command line.",
      "twitter_client"};
  config cfg;
  std::string source, queue_full = "drop", text = "full";
  app.add_option("--source", source,
                 "synthetic | replay | stdin | twitter (API v2) | twitter-v1 (statuses/filter); "
                 "default: twitter with a bearer token, twitter-v1 with OAuth 1.0a keys, else synthetic")
      ->check(CLI::IsMember({"synthetic", "replay", "stdin", "twitter", "twitter-v1"}));
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
  app.add_option("--credentials", cfg.credentials_file, "KEY=VALUE file with the TWITTER_* values (mode 600)");
  app.add_option("--stall-timeout", cfg.stall_timeout_s,
                 "seconds without a byte before reconnecting (default 90 v1, 20 v2)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--queue", cfg.queue_frames, "frames held while the engine is slow or away")
      ->check(CLI::Range(std::size_t{1}, std::size_t{100'000'000}))
      ->capture_default_str();
  app.add_option("--queue-full", queue_full, "when the queue is full: drop the oldest frames, or wait")
      ->check(CLI::IsMember({"drop", "wait"}))
      ->capture_default_str();
  app.add_option("--drain-timeout", cfg.drain_timeout_s, "seconds to deliver what is queued once the source ends")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--text", text, "full: the whole text; original: only `text`, as twitter_client.py")
      ->check(CLI::IsMember({"full", "original"}))
      ->capture_default_str();
  common::cli::add_common_flags(app, cfg.flags);
  // For tests: shrinks Twitter's reconnect delays (60 s after a 429 is too long for a test).
  app.add_option("--backoff-scale", cfg.backoff_scale, "")->group("")->check(CLI::PositiveNumber);

  if (auto stop = common::cli::parse(app, argc, argv)) return {std::nullopt, *stop};
  cfg.source = source.empty() ? source_kind::automatic : *parse_source(source);
  cfg.wait_when_full = queue_full == "wait";
  cfg.text = text == "original" ? text_mode::original : text_mode::full;
  if (cfg.source == source_kind::replay && cfg.file.empty()) {
    app.exit(CLI::ValidationError("--source replay needs --file"));
    return {std::nullopt, 2};
  }
  return {std::move(cfg), 0};
}

}  // namespace twitter_client
