// expected_top: the exact top N of the synthetic tweets twitter_client sends for a seed, computed
// in one process (the client's generator, the engine's rule and counter) with no network: what
// the dashboard must end on when scripts/soak's pipeline loses nothing under its chaos.
//
//   expected_top --seed 1 --tweets 60000000 --tags 10000 [--top 10]
// prints the record the engine writes for them (';;'-terminated), then a JSON line
// {"r_hashtags": [...], "r_counts": [...]} as GET /refreshDashboard shows it.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <cstdio>
#include <string>

#include "engine/hashtags.hpp"
#include "engine/top_counter.hpp"
#include "twitter_client/synthetic.hpp"

int main(int argc, char** argv) {
  CLI::App app{"The exact top N of twitter_client's synthetic tweets (for scripts/soak)."};
  std::uint64_t seed = 1, tweets = 0;
  std::size_t tags = twitter_client::synthetic_tweets::default_tags, top = 10;
  app.add_option("--seed", seed, "the client's --seed")->capture_default_str();
  app.add_option("--tweets", tweets, "how many tweets the client sent")->required();
  app.add_option("--tags", tags, "the client's --tags")->capture_default_str();
  app.add_option("--top", top, "the engine's --top")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  twitter_client::synthetic_tweets gen(seed, tags);
  engine::top_counter counter(top);
  std::string text;
  for (std::uint64_t k = 0; k < tweets; ++k) {
    gen.next(text);
    engine::for_each_hashtag(text, [&](std::string_view tag) { counter.add(tag); });
  }
  std::string record;
  if (counter.events() > 0) counter.append_record(record);
  std::fwrite(record.data(), 1, record.size(), stdout);
  const auto t = counter.top();
  std::string json = "{\"r_hashtags\": [";
  for (std::size_t k = 0; k < t.labels.size(); ++k) json += (k ? ", \"" : "\"") + t.labels[k] + "\"";  // synthetic tags are plain ASCII
  json += "], \"r_counts\": [";
  for (std::size_t k = 0; k < t.counts.size(); ++k) json += (k ? ", " : "") + std::to_string(t.counts[k]);
  json += "]}\n";
  std::fwrite(json.data(), 1, json.size(), stdout);
  return 0;
}
