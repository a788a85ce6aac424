#include "forwarder.hpp"

#include <curl/curl.h>

#include "common/log.hpp"
#include "socket_receiver/options.hpp"

namespace socket_receiver {

namespace log = common::log;

void forwarder::start() { thread_ = std::thread([this] { run(); }); }

void forwarder::offer(std::string body) {
  {
    std::lock_guard lk(mutex_);
    slot_.offer(std::move(body));
  }
  cv_.notify_one();
}

void forwarder::stop() {
  {
    std::lock_guard lk(mutex_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void forwarder::fill(stats& s) {
  std::lock_guard lk(mutex_);
  s.forwarded = slot_.forwarded();
  s.superseded += slot_.superseded();
  s.rejected = slot_.rejected();
  s.failures = slot_.failures();
}

void forwarder::run() {
  CURL* curl = curl_easy_init();
  if (!curl) {
    log::error("cannot create a libcurl handle: nothing will be forwarded");
    return;
  }
  char error_text[CURL_ERROR_SIZE] = {};
  curl_slist* headers = curl_slist_append(nullptr, "Expect:");  // no 100-continue round trip
  // The token is visible ASCII (common::secret::parse_token), so it cannot break the header.
  if (token_) headers = curl_slist_append(headers, ("Authorization: Bearer " + *token_).c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url_.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(post_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_text);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, +[](char*, std::size_t size, std::size_t n, void*) { return size * n; });

  bool unauthorized_logged = false;
  std::unique_lock lk(mutex_);
  while (true) {
    if (auto body = slot_.take(clock::now())) {
      lk.unlock();
      error_text[0] = '\0';
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body->data());
      const auto started = clock::now();
      const CURLcode rc = curl_easy_perform(curl);
      const double took = std::chrono::duration<double>(clock::now() - started).count();
      long status = 0;
      if (rc == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
      const std::string why = rc != CURLE_OK ? (error_text[0] ? error_text : curl_easy_strerror(rc))
                                             : "HTTP " + std::to_string(status);
      lk.lock();
      const outcome result = classify(status);
      if (on_post_) on_post_(result, took);
      const std::uint64_t streak = slot_.failing_streak();
      slot_.done(result, clock::now());
      if (result == outcome::failed && streak == 0) {
        log::warn("dashboard " + url_ + " unreachable (" + why + "): retrying with back-off, newest record kept");
      } else if (result != outcome::failed && streak > 0) {
        log::info("dashboard reachable again after " + std::to_string(streak) + " failed attempts");
      }
      if (result == outcome::rejected && status == 401) {
        // Every record would say the same: once until the dashboard takes one again.
        if (!unauthorized_logged) {
          log::warn(std::string("dashboard refused the update token (HTTP 401): ") +
                    (token_ ? "the dashboard has another one" : "it needs one") + "; set " + token_variable +
                    " or --token-file to the dashboard's token. Records are dropped until it takes them");
          unauthorized_logged = true;
        }
      } else if (result == outcome::rejected) {
        log::warn("dashboard rejected a record (" + why + "); dropped");
      }
      if (result == outcome::delivered) unauthorized_logged = false;
      continue;
    }
    if (stopping_) break;  // nothing sendable right now: a retry delay or an empty slot
    if (auto at = slot_.ready_at()) {
      cv_.wait_until(lk, *at);
    } else {
      cv_.wait(lk);
    }
  }
  lk.unlock();
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
}

}  // namespace socket_receiver
