#pragma once
// The engine's command line, including machida's, which is accepted unchanged.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/cli.hpp"
#include "common/hostport.hpp"
#include "engine/windowed_counter.hpp"

namespace engine {

enum class input_format { framed, lines };
/// What a hashtag is: the original's rule (any white-space-delimited word starting with '#'), or
/// what Twitter's twitter-text library extracts.
enum class hashtag_rule { python, twitter_text };
/// What is counted as one hashtag: its exact bytes, or its Unicode NFKC form in lowercase.
enum class normalization { none, nfkc_lower };
/// When a record is written: one per hashtag (the original), or only when the top N changed.
enum class emit_policy { every_event, on_change };
/// When the state log is flushed to the disk: after every batch, every interval, or never (the
/// kernel writes it back; a kill -9 loses nothing, a power cut may).
enum class fsync_policy { always, interval, never };

struct config {
  std::vector<common::host_port> in{{"127.0.0.1", 8002}};  ///< where the engine listens for tweets
  common::host_port out{"127.0.0.1", 7002};                ///< where it connects to send records
  std::size_t top = 10;
  input_format format = input_format::framed;
  /// A receiver that takes no byte for this long while records wait is closed and reconnected.
  std::chrono::milliseconds receiver_timeout{3000};
  /// A source that completes no message for this long is closed; zero: never.
  std::chrono::milliseconds idle_timeout{0};
  hashtag_rule hashtags = hashtag_rule::python;
  normalization normalize = normalization::none;
  std::chrono::nanoseconds window{0};  ///< counts over the last window; zero: all-time (the original)
  std::chrono::nanoseconds slide{0};   ///< how often the window moves on (set from window/60 when 0)
  score_kind score = score_kind::count;  ///< what ranks the top N
  std::int64_t min_count = 5;          ///< trend: the least count in the window that can score
  emit_policy emit = emit_policy::every_event;
  std::string state_dir;               ///< where the state survives crashes; empty: memory only
  fsync_policy fsync = fsync_policy::interval;
  std::chrono::milliseconds fsync_interval{50};
  std::chrono::milliseconds checkpoint_interval{60'000};
  bool dump_state = false;             ///< print the state in --state-dir and exit
  /// Where Prometheus metrics are served (machida's --metrics); unset: nowhere.
  std::optional<common::host_port> metrics;
  // engine --kafka (docs/scale-out.md): engines in a consumer group instead of TCP sources.
  std::string kafka;                   ///< bootstrap servers; empty: the TCP sources (the original)
  std::string kafka_topic = "tweets";  ///< where the tweets are
  std::string kafka_group = "trend-engine";  ///< the consumer group, and the internal topics' prefix
  std::int32_t kafka_partitions = 12;  ///< partitions of <group>-hashtags when the engine creates it
  std::vector<std::string> kafka_options;  ///< librdkafka settings, KEY=VALUE (no secrets)
  std::string kafka_config;                ///< a file of librdkafka settings (secrets go here)
  common::cli::common_flags flags;           ///< --log-level, --stats-interval
  std::vector<std::string> machida_options;  ///< machida-only options seen, as given
};

/// "all-time, count" or "last 5m (slides of 5s), trend score, twitter-text hashtags, NFKC+lowercase,
/// on change": the options in words, for the start-up log line.
std::string describe_counting(const config& cfg);

/// What the state is counted with: a state directory holds the settings it was made with, and an
/// engine counting otherwise refuses it (--top and the emission policy do not matter).
std::string describe_state_settings(const config& cfg);

/// Parses the command line: the config, or the exit code to stop with (CLI11 printed why).
common::cli::outcome<config> parse_options(int argc, const char* const* argv);

}  // namespace engine
