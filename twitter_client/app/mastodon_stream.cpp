// Mastodon's streaming API: Server-Sent Events over HTTPS through libcurl, one `update` event per
// new status. Reconnects by the Twitter sources' back-off classes.
#include <curl/curl.h>

#include <chrono>
#include <memory>
#include <stdexcept>

#include "common/log.hpp"
#include "live_streams.hpp"
#include "twitter_client/mastodon.hpp"
#include "twitter_client/reconnect.hpp"
#include "twitter_client/sse.hpp"

namespace twitter_client {

namespace {

using clock = std::chrono::steady_clock;
constexpr std::size_t max_error_body = 2048;
const char* const user_agent = "trend-twitter_client/0.1";

struct curl_deleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct slist_deleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

// One connection's state, shared with curl's callbacks.
struct connection {
  CURL* curl = nullptr;
  frame_sink* sink = nullptr;
  client_stats* stats = nullptr;
  const std::atomic<bool>* stop = nullptr;
  sse::parser* events = nullptr;
  const lang_filter* langs = nullptr;
  reconnect_policy* policy = nullptr;
  std::chrono::milliseconds stall{45'000};
  clock::time_point last_byte;
  long status = 0;
  bool got_data = false;
  bool stalled = false;
  bool more = true;
  std::string error_body;
  std::uint64_t posts = 0;
};

void on_event(connection& c, const sse::event& e) {
  if (!c.more) return;
  if (e.type != "update") {  // delete, status.update (edits), notification, ...: not new posts
    c.stats->ignored.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  auto status = mastodon::parse_status(e.data);
  if (!status) {
    c.stats->skipped.fetch_add(1, std::memory_order_relaxed);
    common::log::debug("mastodon: skipped an update: " + common::log::escape(status.error.message));
    return;
  }
  if (status->reblog) {  // a boost repeats another status: Mastodon's own trends leave them out too
    c.stats->ignored.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (!c.langs->accepts(status->language)) {
    c.stats->other_lang.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  ++c.posts;
  c.more = c.sink->add(mastodon::html_to_text(status->content));
}

std::size_t on_data(char* data, std::size_t, std::size_t n, void* user) {
  auto& c = *static_cast<connection*>(user);
  c.last_byte = clock::now();
  if (c.status == 0) curl_easy_getinfo(c.curl, CURLINFO_RESPONSE_CODE, &c.status);
  if (c.status != 200) {
    c.error_body.append(data, std::min(n, max_error_body - std::min(max_error_body, c.error_body.size())));
    return n;
  }
  if (!c.got_data) {
    common::log::info("mastodon: connected (HTTP 200)");
    c.policy->connected(c.last_byte);
    c.got_data = true;
  }
  const std::size_t oversized = c.events->oversized();
  c.events->feed(std::string_view(data, n), [&](const sse::event& e) { on_event(c, e); });
  if (c.events->oversized() != oversized) {  // events over 1 MiB, dropped unread
    c.stats->skipped.fetch_add(c.events->oversized() - oversized, std::memory_order_relaxed);
    common::log::warn("mastodon: skipped an event larger than 1 MiB");
  }
  c.sink->flush();
  return c.more ? n : 0;  // 0 ends the transfer: --limit reached or stop requested
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto& c = *static_cast<connection*>(user);
  if (c.stop->load(std::memory_order_relaxed)) return 1;
  if (clock::now() - c.last_byte > c.stall) {
    c.stalled = true;
    return 1;
  }
  return 0;
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
  const std::string url = o.instance + *target;
  reconnect_policy policy(o.backoff_scale);
  sse::parser events;
  bool first = true;
  stream_end last_end = stream_end::network;  // how the last connection ended
  while (!stop.load() && !sink.done()) {
    std::unique_ptr<CURL, curl_deleter> curl(curl_easy_init());
    if (!curl) throw std::runtime_error("curl_easy_init failed");
    std::unique_ptr<curl_slist, slist_deleter> headers(curl_slist_append(nullptr, "Accept: text/event-stream"));
    if (!o.token.empty()) {
      std::string auth = "Authorization: Bearer " + o.token;
      headers.reset(curl_slist_append(headers.release(), auth.c_str()));
      auth.assign(auth.size(), '\0');  // the header copy in the slist is the only one left
    }
    connection c;
    c.curl = curl.get();
    c.sink = &sink;
    c.stats = &stats;
    c.stop = &stop;
    c.events = &events;
    c.langs = &o.langs;
    c.policy = &policy;
    c.stall = std::chrono::milliseconds(static_cast<long long>(o.stall_seconds * 1000));
    c.last_byte = clock::now();
    curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(curl.get(), CURLOPT_USERAGENT, user_agent);
    curl_easy_setopt(curl.get(), CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_TCP_KEEPALIVE, 1L);
    // Some instances serve the stream from another host; libcurl sends no Authorization there.
    curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_MAXREDIRS, 3L);
    curl_easy_setopt(curl.get(), CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, &on_data);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &c);
    curl_easy_setopt(curl.get(), CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl.get(), CURLOPT_XFERINFOFUNCTION, &on_progress);
    curl_easy_setopt(curl.get(), CURLOPT_XFERINFODATA, &c);
    if (!o.ca_file.empty()) curl_easy_setopt(curl.get(), CURLOPT_CAINFO, o.ca_file.c_str());

    if (!first) stats.count_stream_reconnect(last_end);
    first = false;
    const CURLcode rc = curl_easy_perform(curl.get());
    if (c.status == 0) curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &c.status);
    events.reset();  // the next connection starts on an event boundary
    if (stop.load() || sink.done()) break;

    policy.ended(clock::now());
    last_end = end_of_stream(c.status, c.stalled, rc != CURLE_OK);
    failure_class cls = failure_class::network;
    std::string why;
    if (c.status != 0 && c.status != 200) {
      cls = classify_http(c.status);
      if (cls == failure_class::fatal) {
        common::log::error("mastodon: " + advice(c.status, o.instance) + "; reply: " +
                           common::log::escape(c.error_body, 300));
        return false;
      }
      why = "HTTP " + std::to_string(c.status) + " " + common::log::escape(c.error_body, 300);
    } else if (c.stalled) {
      why = "no data for " + std::to_string(c.stall.count()) + " ms (stalled)";
    } else if (rc != CURLE_OK) {
      why = curl_easy_strerror(rc);
    } else {
      why = "the server ended the stream";
    }
    curl_off_t retry_after = 0;
    if (c.status != 0 && c.status != 200) curl_easy_getinfo(curl.get(), CURLINFO_RETRY_AFTER, &retry_after);
    const auto nominal = honour_retry_after(policy.next_nominal(cls), static_cast<long long>(retry_after));
    const auto wait = policy.scaled(nominal);
    common::log::warn("mastodon: " + why + " after " + std::to_string(c.posts) + " posts; reconnecting in " +
                      std::to_string(wait.count()) + " ms (" + name(cls) + " back-off, nominal " +
                      std::to_string(nominal.count()) + " ms)");
    sleep_unless_stopped(wait, stop);
  }
  return true;
}

}  // namespace twitter_client
