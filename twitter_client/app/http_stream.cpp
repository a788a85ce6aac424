#include "http_stream.hpp"

#include <chrono>
#include <stdexcept>

#include "common/log.hpp"
#include "twitter_client/reconnect.hpp"

namespace twitter_client {

namespace {
using clock = std::chrono::steady_clock;
constexpr std::size_t max_error_body = 2048;

// One connection's state, shared with curl's callbacks.
struct connection {
  CURL* curl = nullptr;
  frame_sink* sink = nullptr;
  const std::atomic<bool>* stop = nullptr;
  const http_stream_settings* settings = nullptr;
  const http_stream_hooks* hooks = nullptr;
  reconnect_policy* policy = nullptr;
  std::chrono::milliseconds stall{20'000};
  clock::time_point last_byte;
  long status = 0;
  bool got_data = false;
  bool stalled = false;
  std::string error_body;
  std::uint64_t items = 0;
};

std::size_t on_data(char* data, std::size_t, std::size_t n, void* user) {
  auto& c = *static_cast<connection*>(user);
  c.last_byte = clock::now();
  if (c.status == 0) curl_easy_getinfo(c.curl, CURLINFO_RESPONSE_CODE, &c.status);
  if (c.status != 200) {
    c.error_body.append(data, std::min(n, max_error_body - std::min(max_error_body, c.error_body.size())));
    return n;
  }
  if (!c.got_data) {
    common::log::info(c.settings->name + ": connected (HTTP 200)");
    c.policy->connected(c.last_byte);
    c.got_data = true;
  }
  const bool more = c.hooks->on_data(std::string_view(data, n), c.items);
  c.sink->flush();
  return more ? n : 0;  // 0 ends the transfer: --limit reached or stop requested
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

}  // namespace

void append_header(slist_ptr& headers, std::string& line) {
  curl_slist* grown = curl_slist_append(headers.get(), line.c_str());
  line.assign(line.size(), '\0');
  if (!grown) throw std::runtime_error("curl_slist_append failed");
  if (!headers) headers.reset(grown);  // otherwise appended in place: the head stays the same
}

std::string excerpt(std::string_view body) { return common::log::escape(body, 300); }

bool run_http_stream(frame_sink& sink, client_stats& stats, const std::atomic<bool>& stop,
                     const http_stream_settings& s, const http_stream_hooks& hooks) {
  reconnect_policy policy(s.backoff_scale);  // not reset by a short connection: see healthy_connection
  bool first = true;
  stream_end last_end = stream_end::network;  // how the last connection ended
  while (!stop.load() && !sink.done()) {
    curl_ptr curl(curl_easy_init());
    if (!curl) throw std::runtime_error("curl_easy_init failed");
    const slist_ptr headers = hooks.headers();
    connection c;
    c.curl = curl.get();
    c.sink = &sink;
    c.stop = &stop;
    c.settings = &s;
    c.hooks = &hooks;
    c.policy = &policy;
    c.stall = std::chrono::milliseconds(static_cast<long long>(s.stall_seconds * 1000));
    c.last_byte = clock::now();
    curl_easy_setopt(curl.get(), CURLOPT_URL, s.url.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(curl.get(), CURLOPT_USERAGENT, user_agent);
    curl_easy_setopt(curl.get(), CURLOPT_ACCEPT_ENCODING, "");  // gzip when the server offers it
    curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_TCP_KEEPALIVE, 1L);
    if (s.follow_redirects) {
      // libcurl sends no Authorization header to another host.
      curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 1L);
      curl_easy_setopt(curl.get(), CURLOPT_MAXREDIRS, 3L);
      curl_easy_setopt(curl.get(), CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    }
    curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, &on_data);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &c);
    curl_easy_setopt(curl.get(), CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl.get(), CURLOPT_XFERINFOFUNCTION, &on_progress);
    curl_easy_setopt(curl.get(), CURLOPT_XFERINFODATA, &c);
    if (!s.ca_file.empty()) curl_easy_setopt(curl.get(), CURLOPT_CAINFO, s.ca_file.c_str());

    if (!first) stats.count_stream_reconnect(last_end);
    first = false;
    const CURLcode rc = curl_easy_perform(curl.get());
    if (c.status == 0) curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &c.status);
    if (hooks.on_end) hooks.on_end();
    if (stop.load() || sink.done()) break;

    policy.ended(clock::now());  // starts the back-off over if the connection stayed up long enough
    last_end = end_of_stream(c.status, c.stalled, rc != CURLE_OK);
    failure_class cls = failure_class::network;
    std::string why;
    if (c.status != 0 && c.status != 200) {
      cls = classify_http(c.status);
      if (cls == failure_class::fatal) {
        common::log::error(s.name + ": " + hooks.fatal_advice(c.status) + "; reply: " + excerpt(c.error_body));
        return false;
      }
      why = "HTTP " + std::to_string(c.status) + " " + excerpt(c.error_body);
    } else if (c.stalled) {
      why = "no data for " + std::to_string(c.stall.count()) + " ms (stalled)";
    } else if (rc != CURLE_OK) {
      why = curl_easy_strerror(rc);
    } else {
      why = "the server ended the stream";
    }
    // 429 and 503 replies may say when to come back; libcurl parses Retry-After (seconds or a date).
    curl_off_t retry_after = 0;
    if (c.status != 0 && c.status != 200) curl_easy_getinfo(curl.get(), CURLINFO_RETRY_AFTER, &retry_after);
    const auto nominal = honour_retry_after(policy.next_nominal(cls), static_cast<long long>(retry_after));
    if (retry_after > 0) why += " (Retry-After: " + std::to_string(static_cast<long long>(retry_after)) + " s)";
    const auto wait = policy.scaled(nominal);
    common::log::warn(s.name + ": " + why + " after " + std::to_string(c.items) + " " + s.unit + "; reconnecting in " +
                      std::to_string(wait.count()) + " ms (" + name(cls) + " back-off, nominal " +
                      std::to_string(nominal.count()) + " ms)");
    sleep_unless_stopped(wait, stop);
  }
  return true;
}

}  // namespace twitter_client
