#include "twitter_stream.hpp"

#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <ctime>
#include <memory>
#include <stdexcept>

#include "common/log.hpp"
#include "twitter_client/line_splitter.hpp"
#include "twitter_client/reconnect.hpp"

namespace twitter_client {

namespace {
using clock = std::chrono::steady_clock;
constexpr std::size_t max_error_body = 2048;
/// The largest reply kept from a request/response call (the v2 rules endpoint): a rules list is a
/// few kB, so anything near this is not one, and keeping it whole could exhaust memory.
constexpr std::size_t max_reply_bytes = 1 << 20;
const char* const user_agent = "trend-twitter_client/0.1";

// The original query of twitter_client.py, properly encoded this time ('#' is not a fragment).
const oauth::params v1_query{{"locations", "-130,-20,100,50"}, {"track", "#"}};

struct curl_deleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct slist_deleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using curl_ptr = std::unique_ptr<CURL, curl_deleter>;
using slist_ptr = std::unique_ptr<curl_slist, slist_deleter>;

std::string query_string(const oauth::params& params) {
  std::string q;
  for (const auto& [k, v] : params) {
    q += q.empty() ? "?" : "&";
    q += oauth::percent_encode(k) + "=" + oauth::percent_encode(v);
  }
  return q;
}

// One streaming connection's state, shared with curl's callbacks.
struct connection {
  CURL* curl = nullptr;
  frame_sink* sink = nullptr;
  client_stats* stats = nullptr;
  const std::atomic<bool>* stop = nullptr;
  line_splitter* splitter = nullptr;
  text_mode mode = text_mode::full;
  std::chrono::milliseconds stall{20'000};
  clock::time_point last_byte;
  long status = 0;
  bool got_data = false;
  bool stalled = false;
  std::string error_body;
  std::uint64_t tweets = 0;
  reconnect_policy* policy = nullptr;
};

std::size_t on_stream_data(char* data, std::size_t, std::size_t n, void* user) {
  auto& c = *static_cast<connection*>(user);
  c.last_byte = clock::now();
  if (c.status == 0) curl_easy_getinfo(c.curl, CURLINFO_RESPONSE_CODE, &c.status);
  if (c.status != 200) {
    c.error_body.append(data, std::min(n, max_error_body - std::min(max_error_body, c.error_body.size())));
    return n;
  }
  if (!c.got_data) {
    common::log::info("stream: connected (HTTP 200)");
    c.policy->connected(c.last_byte);
  }
  c.got_data = true;
  bool more = true;
  c.splitter->feed(std::string_view(data, n), [&](std::string_view line) {
    if (!more) return;
    auto got = extract_tweet_text(line, c.mode);
    if (got.kind == line_kind::tweet) {
      ++c.tweets;
      more = c.sink->add(got.text);
    } else if (got.kind == line_kind::bad_json) {
      c.stats->skipped.fetch_add(1, std::memory_order_relaxed);
    }
  });
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

// What the server said, safe for a log line: it may hold terminal escapes or line breaks.
std::string excerpt(std::string_view body) { return common::log::escape(body, 300); }

struct http_reply {
  CURLcode code;
  long status;
  std::string body;
  bool too_large = false;  ///< the body passed max_reply_bytes: the transfer was aborted
};

std::size_t on_body(char* data, std::size_t, std::size_t n, void* user) {
  auto& reply = *static_cast<http_reply*>(user);
  if (reply.body.size() + n > max_reply_bytes) {
    reply.too_large = true;
    return 0;  // anything but n aborts the transfer (CURLE_WRITE_ERROR)
  }
  reply.body.append(data, n);
  return n;
}

// A small request/response call (the v2 rules endpoint) with the bearer token.
http_reply call_json(const std::string& url, const std::string& bearer, const std::string* post_body,
                     const std::string& ca_file) {
  curl_ptr curl(curl_easy_init());
  if (!curl) throw std::runtime_error("curl_easy_init failed");
  http_reply reply{CURLE_OK, 0, {}};
  slist_ptr headers(curl_slist_append(nullptr, ("Authorization: Bearer " + bearer).c_str()));
  headers.reset(curl_slist_append(headers.release(), "Content-Type: application/json"));
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(curl.get(), CURLOPT_USERAGENT, user_agent);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, &on_body);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &reply);
  if (!ca_file.empty()) curl_easy_setopt(curl.get(), CURLOPT_CAINFO, ca_file.c_str());
  if (post_body) curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, post_body->c_str());
  reply.code = curl_easy_perform(curl.get());
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &reply.status);
  return reply;
}

// Replaces the v2 stream rules with --rule values: delete every old rule, add the new ones.
bool set_rules(const stream_options& o) {
  const std::string url = o.api_url + "/2/tweets/search/stream/rules";
  auto fail = [&](const char* what, const http_reply& r) {
    if (r.too_large)
      common::log::error(std::string(what) + " failed: the reply is larger than " +
                         std::to_string(max_reply_bytes >> 20) + " MiB (HTTP " + std::to_string(r.status) +
                         "), not a rules reply; transfer aborted");
    else if (r.code != CURLE_OK)
      common::log::error(std::string(what) + " failed: " + curl_easy_strerror(r.code));
    else if (classify_http(r.status) == failure_class::fatal)
      common::log::error(std::string(what) + ": " + fatal_advice(r.status, false) + "; reply: " + excerpt(r.body));
    else
      common::log::error(std::string(what) + " failed with HTTP " + std::to_string(r.status) + ": " + excerpt(r.body));
    return false;
  };
  const http_reply listed = call_json(url, o.bearer_token, nullptr, o.ca_file);
  if (listed.code != CURLE_OK || listed.status != 200) return fail("listing the stream rules", listed);
  nlohmann::json ids = nlohmann::json::array();
  const auto doc = nlohmann::json::parse(listed.body, nullptr, false);
  if (doc.is_object() && doc.contains("data") && doc["data"].is_array())
    for (const auto& rule : doc["data"])
      if (rule.is_object() && rule.contains("id")) ids.push_back(rule["id"]);
  if (!ids.empty()) {
    const std::string body = nlohmann::json{{"delete", {{"ids", ids}}}}.dump();
    const http_reply deleted = call_json(url, o.bearer_token, &body, o.ca_file);
    if (deleted.code != CURLE_OK || deleted.status != 200) return fail("deleting the old stream rules", deleted);
  }
  nlohmann::json add = nlohmann::json::array();
  for (const auto& r : o.rules) add.push_back({{"value", r}});
  const std::string body = nlohmann::json{{"add", add}}.dump();
  const http_reply added = call_json(url, o.bearer_token, &body, o.ca_file);
  if (added.code != CURLE_OK || (added.status != 200 && added.status != 201)) return fail("adding the stream rules", added);
  const auto reply = nlohmann::json::parse(added.body, nullptr, false);
  if (reply.is_object() && reply.contains("errors")) {
    common::log::error("Twitter refused a stream rule: " + excerpt(reply["errors"].dump()));
    return false;
  }
  common::log::info("stream rules set: " + std::to_string(o.rules.size()) + " added, " + std::to_string(ids.size()) +
                    " old removed");
  return true;
}

}  // namespace

bool run_twitter(frame_sink& sink, client_stats& stats, const std::atomic<bool>& stop, const stream_options& o) {
  if (!o.v1 && !o.rules.empty() && !set_rules(o)) return false;

  const std::string base = o.api_url + (o.v1 ? "/1.1/statuses/filter.json" : "/2/tweets/search/stream");
  const oauth::params query = o.v1 ? v1_query : oauth::params{{"tweet.fields", "note_tweet"}};
  const std::string url = base + query_string(query);
  reconnect_policy policy(o.backoff_scale);  // not reset by a short connection: see healthy_connection
  line_splitter splitter;
  bool first = true;
  stream_end last_end = stream_end::network;  // how the last connection ended

  while (!stop.load() && !sink.done()) {
    curl_ptr curl(curl_easy_init());
    if (!curl) throw std::runtime_error("curl_easy_init failed");
    std::string auth = o.v1 ? "Authorization: " + oauth::authorization_header("GET", base, query, o.oauth,
                                                                               oauth::make_nonce(),
                                                                               std::to_string(std::time(nullptr)))
                            : "Authorization: Bearer " + o.bearer_token;
    slist_ptr headers(curl_slist_append(nullptr, auth.c_str()));
    auth.assign(auth.size(), '\0');  // the header copy in the slist is the only one left
    connection c;
    c.curl = curl.get();
    c.sink = &sink;
    c.stats = &stats;
    c.stop = &stop;
    c.splitter = &splitter;
    c.mode = o.mode;
    c.policy = &policy;
    c.stall = std::chrono::milliseconds(static_cast<long long>(o.stall_seconds * 1000));
    c.last_byte = clock::now();
    curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(curl.get(), CURLOPT_USERAGENT, user_agent);
    curl_easy_setopt(curl.get(), CURLOPT_ACCEPT_ENCODING, "");  // gzip when the server offers it
    curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, &on_stream_data);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &c);
    curl_easy_setopt(curl.get(), CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl.get(), CURLOPT_XFERINFOFUNCTION, &on_progress);
    curl_easy_setopt(curl.get(), CURLOPT_XFERINFODATA, &c);
    if (!o.ca_file.empty()) curl_easy_setopt(curl.get(), CURLOPT_CAINFO, o.ca_file.c_str());

    if (!first) stats.count_stream_reconnect(last_end);
    first = false;
    const CURLcode rc = curl_easy_perform(curl.get());
    if (c.status == 0) curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &c.status);
    if (splitter.reset()) common::log::info("stream: dropped the unfinished last line of the connection");
    if (stop.load() || sink.done()) break;

    policy.ended(clock::now());  // starts the back-off over if the connection stayed up long enough
    last_end = end_of_stream(c.status, c.stalled, rc != CURLE_OK);
    failure_class cls = failure_class::network;
    std::string why;
    if (c.status != 0 && c.status != 200) {
      cls = classify_http(c.status);
      why = "HTTP " + std::to_string(c.status) + " " + excerpt(c.error_body);
      if (cls == failure_class::fatal) {
        common::log::error("stream: " + fatal_advice(c.status, o.v1) + "; reply: " + excerpt(c.error_body));
        return false;
      }
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
    common::log::warn("stream: " + why + " after " + std::to_string(c.tweets) + " tweets; reconnecting in " +
                      std::to_string(wait.count()) + " ms (" + name(cls) + " back-off, nominal " +
                      std::to_string(nominal.count()) + " ms)");
    sleep_unless_stopped(wait, stop);
  }
  return true;
}

}  // namespace twitter_client
