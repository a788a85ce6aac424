#include "twitter_stream.hpp"

#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <ctime>
#include <memory>
#include <stdexcept>

#include "common/log.hpp"
#include "http_stream.hpp"
#include "twitter_client/line_splitter.hpp"
#include "twitter_client/reconnect.hpp"

namespace twitter_client {

namespace {
/// The largest reply kept from a request/response call (the v2 rules endpoint): a rules list is a
/// few kB, so anything near this is not one, and keeping it whole could exhaust memory.
constexpr std::size_t max_reply_bytes = 1 << 20;

// The original query of twitter_client.py, properly encoded this time ('#' is not a fragment).
const oauth::params v1_query{{"locations", "-130,-20,100,50"}, {"track", "#"}};

std::string query_string(const oauth::params& params) {
  std::string q;
  for (const auto& [k, v] : params) {
    q += q.empty() ? "?" : "&";
    q += oauth::percent_encode(k) + "=" + oauth::percent_encode(v);
  }
  return q;
}

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
  slist_ptr headers;
  std::string auth = "Authorization: Bearer " + bearer;
  append_header(headers, auth);
  std::string type = "Content-Type: application/json";
  append_header(headers, type);
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
  line_splitter splitter;

  http_stream_settings settings;
  settings.name = "stream";
  settings.unit = "tweets";
  settings.url = base + query_string(query);
  settings.stall_seconds = o.stall_seconds;
  settings.backoff_scale = o.backoff_scale;
  settings.ca_file = o.ca_file;

  http_stream_hooks hooks;
  hooks.headers = [&] {
    std::string auth = o.v1 ? "Authorization: " + oauth::authorization_header("GET", base, query, o.oauth,
                                                                               oauth::make_nonce(),
                                                                               std::to_string(std::time(nullptr)))
                            : "Authorization: Bearer " + o.bearer_token;
    slist_ptr headers;
    append_header(headers, auth);
    return headers;
  };
  hooks.on_data = [&](std::string_view data, std::uint64_t& tweets) {
    bool more = true;
    splitter.feed(data, [&](std::string_view line) {
      if (!more) return;
      auto got = extract_tweet_text(line, o.mode);
      if (got.kind == line_kind::tweet) {
        ++tweets;
        more = sink.add(got.text);
      } else if (got.kind == line_kind::bad_json) {
        stats.skipped.fetch_add(1, std::memory_order_relaxed);
      }
    });
    return more;
  };
  hooks.on_end = [&] {
    if (splitter.reset()) common::log::info("stream: dropped the unfinished last line of the connection");
  };
  hooks.fatal_advice = [&](long status) { return fatal_advice(status, o.v1); };
  return run_http_stream(sink, stats, stop, settings, hooks);
}

}  // namespace twitter_client
