// Mastodon's streaming API: Server-Sent Events over HTTPS through libcurl, one `update` event per
// new status. Reconnects by the Twitter sources' back-off classes.
#include <cstdint>
#include <string>

#include "common/log.hpp"
#include "http_stream.hpp"
#include "live_streams.hpp"
#include "twitter_client/mastodon.hpp"
#include "twitter_client/sse.hpp"

namespace twitter_client {

namespace {

// One event of the stream: a new status counts, anything else is tallied and left.
bool on_event(frame_sink& sink, client_stats& stats, const lang_filter& langs, const sse::event& e,
              std::uint64_t& posts) {
  if (e.type != "update") {  // delete, status.update (edits), notification, ...: not new posts
    stats.ignored.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  auto status = mastodon::parse_status(e.data);
  if (!status) {
    stats.skipped.fetch_add(1, std::memory_order_relaxed);
    common::log::debug("mastodon: skipped an update: " + common::log::escape(status.error.message));
    return true;
  }
  if (status->reblog) {  // a boost repeats another status: Mastodon's own trends leave them out too
    stats.ignored.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  if (!langs.accepts(status->language)) {
    stats.other_lang.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  ++posts;
  return sink.add(mastodon::html_to_text(status->content));
}

std::string advice(long status, const std::string& instance) {
  if (status == 401)
    return "HTTP 401: this instance streams only to registered users. Create an access token with the "
           "read:statuses scope at " + instance + "/settings/applications (Preferences, Development, New "
           "application) and set MASTODON_TOKEN in the environment or the --credentials file";
  return "HTTP " + std::to_string(status) + ": the instance refused the token (MASTODON_TOKEN); it needs the "
         "read:statuses scope (" + instance + "/settings/applications)";
}

}  // namespace

bool run_mastodon(frame_sink& sink, client_stats& stats, const std::atomic<bool>& stop, const mastodon_options& o) {
  const auto target = mastodon::stream_target(o.stream);
  if (!target) {
    common::log::error("--stream " + o.stream + " is not public, public:local or hashtag:TAG");
    return false;
  }
  sse::parser events;
  http_stream_settings settings;
  settings.name = "mastodon";
  settings.unit = "posts";
  settings.url = o.instance + *target;
  settings.stall_seconds = o.stall_seconds;
  settings.backoff_scale = o.backoff_scale;
  settings.ca_file = o.ca_file;
  settings.follow_redirects = true;  // some instances serve the stream from another host

  http_stream_hooks hooks;
  hooks.headers = [&] {
    slist_ptr headers;
    std::string accept = "Accept: text/event-stream";
    append_header(headers, accept);
    if (!o.token.empty()) {
      std::string auth = "Authorization: Bearer " + o.token;
      append_header(headers, auth);
    }
    return headers;
  };
  hooks.on_data = [&](std::string_view data, std::uint64_t& posts) {
    bool more = true;
    const std::size_t oversized = events.oversized();
    events.feed(data, [&](const sse::event& e) {
      if (more) more = on_event(sink, stats, o.langs, e, posts);
    });
    if (events.oversized() != oversized) {  // events over 1 MiB, dropped unread
      stats.skipped.fetch_add(events.oversized() - oversized, std::memory_order_relaxed);
      common::log::warn("mastodon: skipped an event larger than 1 MiB");
    }
    return more;
  };
  hooks.on_end = [&] { events.reset(); };  // the next connection starts on an event boundary
  hooks.fatal_advice = [&](long status) { return advice(status, o.instance); };
  return run_http_stream(sink, stats, stop, settings, hooks);
}

}  // namespace twitter_client
