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
enum class source_kind { automatic, synthetic, replay, standard_input, twitter, twitter_v1, bluesky, mastodon };

/// "synthetic", "replay", "stdin", "twitter", "twitter-v1", "bluesky", "mastodon" ("automatic"
/// for the unset value).
const char* name(source_kind kind);

/// The kind a --source word names; nullopt for anything else.
std::optional<source_kind> parse_source(std::string_view word);

/// Bluesky's public Jetstream (no account needed) and the largest Mastodon instance.
inline constexpr std::string_view default_jetstream_url = "wss://jetstream2.us-east.bsky.network/subscribe";
inline constexpr std::string_view default_instance = "https://mastodon.social";

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
  std::string jetstream_url = std::string(default_jetstream_url);  ///< bluesky: ws:// or wss://
  std::string instance = std::string(default_instance);            ///< mastodon: http:// or https://
  std::string stream = "public";    ///< mastodon: public, public:local or hashtag:TAG
  std::vector<std::string> langs;   ///< bluesky, mastodon: forward only posts in these languages
  std::string ca_file;              ///< trust this CA bundle for every TLS source (empty: the system's)
  double stall_timeout_s = 0;  ///< 0: the source's default (stall_default)
  std::size_t queue_frames = 100'000;
  bool wait_when_full = false;  ///< --queue-full wait: the source waits instead of dropping
  double drain_timeout_s = 10;
  /// --delivery acked: open each engine connection with a hello; an engine that answers (ours)
  /// acknowledges frames, which are kept and sent again after a reconnect until it does (an
  /// engine that does not answer gets plain frames). plain (the default): frames only, exactly
  /// as the original client writes them.
  bool acknowledged = false;
  text_mode text = text_mode::full;
  double backoff_scale = 1.0;  ///< hidden, for tests: multiplies every Twitter reconnect delay
  std::optional<common::host_port> metrics;  ///< where Prometheus metrics are served; unset: nowhere
  /// --kafka BROKERS: each tweet's text is a record of --topic (idempotent producer, acks=all)
  /// instead of a frame to the engine; empty: the engine link (the original).
  std::string kafka;
  std::string kafka_topic = "tweets";
  std::vector<std::string> kafka_options;  ///< librdkafka settings, KEY=VALUE (no secrets)
  std::string kafka_config;                ///< a file of librdkafka settings (secrets go here)
  common::cli::common_flags flags;  ///< --log-level, --stats-interval
};

/// The --stall-timeout default of a source: v1.1 90 s, v2 20 s, bluesky 30 s, mastodon 45 s
/// (its heartbeats come every 15 s or so).
double stall_default(source_kind resolved);

/// The rate to pace at: --rate, or the source's default (synthetic 1000 tweets/s, others unlimited).
double effective_rate(const config& cfg, source_kind resolved);

/// Parses the command line: the config, or the exit code to stop with (CLI11 printed why).
common::cli::outcome<config> parse_options(int argc, const char* const* argv);

}  // namespace twitter_client
