#pragma once
// twitter_client's command line. Credentials are not options: they come from the environment or
// the --credentials file, read by run(), so the checks that need them live there.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/cli.hpp"
#include "common/hostport.hpp"
#include "twitter_client/synthetic.hpp"
#include "twitter_client/tweet_text.hpp"

namespace twitter_client {

/// Where tweets come from; `automatic` is decided by the credentials found (default_source).
enum class source_kind { automatic, synthetic, replay, standard_input, twitter, twitter_v1 };

/// "synthetic", "replay", "stdin", "twitter", "twitter-v1" ("automatic" for the unset value).
const char* name(source_kind kind);

/// The kind a --source word names; nullopt for anything else.
std::optional<source_kind> parse_source(std::string_view word);

struct config {
  source_kind source = source_kind::automatic;
  common::host_port engine{"127.0.0.1", 8002};  ///< where the engine listens
  std::string file;                              ///< replay: the JSONL file
  double rate = -1;                              ///< tweets per second; 0 = unlimited, -1 = the source's default
  std::uint64_t limit = 0;                       ///< stop after this many tweets, 0 = never
  bool loop = false;                             ///< replay: start over at the end
  std::uint64_t seed = 1;
  std::size_t tags = synthetic_tweets::default_tags;
  std::vector<std::string> rules;  ///< twitter: filtered-stream rules replacing the old ones
  std::string api_url;             ///< empty: Twitter's own
  std::string credentials_file;
  double stall_timeout_s = 0;  ///< 0: 90 s for v1.1, 20 s for v2
  std::size_t queue_frames = 100'000;
  bool wait_when_full = false;  ///< --queue-full wait: the source waits instead of dropping
  double drain_timeout_s = 10;
  text_mode text = text_mode::full;
  double backoff_scale = 1.0;  ///< hidden, for tests: multiplies every Twitter reconnect delay
  common::cli::common_flags flags;  ///< --log-level, --stats-interval
};

/// The rate to pace at: --rate, or the source's default (synthetic 1000 tweets/s, others unlimited).
double effective_rate(const config& cfg, source_kind resolved);

/// Parses the command line: the config, or the exit code to stop with (CLI11 printed why).
common::cli::outcome<config> parse_options(int argc, const char* const* argv);

}  // namespace twitter_client
