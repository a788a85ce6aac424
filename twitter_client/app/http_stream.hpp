#pragma once
// One reconnecting HTTP stream through libcurl, shared by the Twitter and Mastodon sources: the
// connection (stall detection, CA file, redirects, error bodies kept short), the reconnect loop
// (Twitter's back-off classes, Retry-After, fatal replies end the run) and its log lines. A
// source says only what to send (headers) and what to do with the body bytes of a 200 reply.
#include <curl/curl.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "sources.hpp"

namespace twitter_client {

struct slist_deleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using slist_ptr = std::unique_ptr<curl_slist, slist_deleter>;

struct curl_deleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
using curl_ptr = std::unique_ptr<CURL, curl_deleter>;

/// Appends one header line, wiping `line` afterwards (it may hold a token): the slist's copy is
/// then the only one left.
void append_header(slist_ptr& headers, std::string& line);

/// A server's text, safe for a log line: it may hold terminal escapes or line breaks.
std::string excerpt(std::string_view body);

struct http_stream_settings {
  std::string name;          ///< log prefix: "stream", "mastodon"
  std::string unit;          ///< what a counted item is called in the log: "tweets", "posts"
  std::string url;
  double stall_seconds = 20;  ///< no byte for this long ends the connection
  double backoff_scale = 1.0;
  std::string ca_file;        ///< empty: the system's CA store
  bool follow_redirects = false;
};

struct http_stream_hooks {
  /// The request headers of one connection (built again each time: OAuth 1.0a signs each one).
  std::function<slist_ptr()> headers;
  /// Body bytes of a 200 reply; counts items in `items`; false ends the transfer (--limit, stop).
  std::function<bool(std::string_view data, std::uint64_t& items)> on_data;
  /// After each connection, before the back-off: drop a half-read line or event.
  std::function<void()> on_end;
  /// The advice logged for a reply that retrying cannot fix (401, 403, ...).
  std::function<std::string(long status)> fatal_advice;
};

/// Streams until stopped or --limit; false on a fatal reply (logged with the source's advice).
bool run_http_stream(frame_sink& sink, client_stats& stats, const std::atomic<bool>& stop,
                     const http_stream_settings& settings, const http_stream_hooks& hooks);

}  // namespace twitter_client
