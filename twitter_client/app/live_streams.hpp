#pragma once
// The live networks anyone can read today: Bluesky through Jetstream (JSON over WebSocket, no
// account) and Mastodon through an instance's streaming API (Server-Sent Events, a token on most
// instances). Both reconnect by the Twitter sources' back-off classes.
#include <atomic>
#include <string>

#include "sources.hpp"
#include "twitter_client/lang_filter.hpp"

namespace twitter_client {

struct bluesky_options {
  std::string url;  ///< the Jetstream subscribe URL, ws:// or wss://
  lang_filter langs;
  double stall_seconds = 30;
  double backoff_scale = 1.0;
  std::string ca_file;  ///< empty: the system's CA store
};

/// Streams Jetstream's posts until stopped or --limit. Boost.Beast (with Boost.Asio, not the
/// standalone asio of the engine link) runs in an io_context of its own, in this thread.
bool run_bluesky(frame_sink& sink, client_stats& stats, const std::atomic<bool>& stop, const bluesky_options& options);

struct mastodon_options {
  std::string instance;  ///< base URL, no trailing slash
  std::string stream;    ///< public, public:local, hashtag:TAG
  std::string token;     ///< MASTODON_TOKEN; empty: none sent
  lang_filter langs;
  double stall_seconds = 45;
  double backoff_scale = 1.0;
  std::string ca_file;
};

/// Streams an instance's statuses until stopped or --limit; false on a fatal error (401, 403).
bool run_mastodon(frame_sink& sink, client_stats& stats, const std::atomic<bool>& stop, const mastodon_options& options);

}  // namespace twitter_client
