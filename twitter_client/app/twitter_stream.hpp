#pragma once
// The Twitter sources: API v2 filtered stream (bearer token) and the original v1.1
// statuses/filter (OAuth 1.0a), streamed with libcurl and reconnected by Twitter's rules.
#include <atomic>
#include <string>
#include <vector>

#include "sources.hpp"
#include "twitter_client/oauth.hpp"

namespace twitter_client {

struct stream_options {
  bool v1 = false;
  std::string api_url;             ///< base URL, no trailing slash
  std::vector<std::string> rules;  ///< v2: replaces the stream rules when not empty
  double stall_seconds = 20;
  double backoff_scale = 1.0;
  text_mode mode = text_mode::full;
  std::string bearer_token;
  oauth::credentials oauth;
  std::string ca_file;  ///< empty: the system's CA store
};

/// Streams until stopped or --limit; returns false on a fatal error (logged with advice).
bool run_twitter(frame_sink& sink, client_stats& stats, const std::atomic<bool>& stop, const stream_options& options);

}  // namespace twitter_client
