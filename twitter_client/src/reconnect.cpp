#include "twitter_client/reconnect.hpp"

#include <algorithm>

namespace twitter_client {

failure_class classify_http(long status) {
  if (status == 401 || status == 403) return failure_class::fatal;
  if (status == 420 || status == 429) return failure_class::rate_limit;
  return failure_class::http;
}

stream_end end_of_stream(long http_status, bool stalled, bool transfer_failed) {
  if (http_status != 0 && http_status != 200)
    return classify_http(http_status) == failure_class::rate_limit ? stream_end::rate_limit : stream_end::http;
  if (stalled) return stream_end::stalled;
  return transfer_failed ? stream_end::network : stream_end::ended;
}

const char* name(stream_end e) {
  switch (e) {
    case stream_end::network: return "network";
    case stream_end::stalled: return "stalled";
    case stream_end::ended: return "ended";
    case stream_end::http: return "http";
    case stream_end::rate_limit: return "rate_limit";
  }
  return "?";
}

const char* name(failure_class c) {
  switch (c) {
    case failure_class::network: return "network";
    case failure_class::http: return "http";
    case failure_class::rate_limit: return "rate-limit";
    case failure_class::fatal: return "fatal";
  }
  return "?";
}

std::string fatal_advice(long status, bool v1) {
  if (v1)
    return "HTTP " + std::to_string(status) +
           " from statuses/filter: Twitter retired the v1.1 streaming endpoint in 2023; use --source twitter "
           "with TWITTER_BEARER_TOKEN (API v2 filtered stream), or check the four TWITTER_CONSUMER_KEY, "
           "TWITTER_CONSUMER_SECRET, TWITTER_ACCESS_TOKEN, TWITTER_ACCESS_SECRET values";
  if (status == 401)
    return "HTTP 401 from the v2 filtered stream: the bearer token was refused; check TWITTER_BEARER_TOKEN "
           "(an App-only bearer token of a Project app)";
  return "HTTP " + std::to_string(status) +
         " from the v2 filtered stream: the app is not allowed to use it; attach it to a Project with "
         "filtered-stream access (or fix the rules: see the message above)";
}

reconnect_policy::ms reconnect_policy::next_nominal(failure_class c) {
  switch (c) {
    case failure_class::network: {
      network_ = std::min(network_ + 1, 64);
      return std::min(ms(250) * network_, ms(16'000));
    }
    case failure_class::http: {
      http_ = std::min(http_ + 1, 16);
      return std::min(ms(5'000LL << (http_ - 1)), ms(320'000));
    }
    case failure_class::rate_limit: {
      rate_ = std::min(rate_ + 1, 16);
      return std::min(ms(60'000LL << (rate_ - 1)), ms(960'000));
    }
    case failure_class::fatal: break;
  }
  return ms(0);
}

std::chrono::milliseconds honour_retry_after(std::chrono::milliseconds nominal, long long retry_after_seconds) {
  if (retry_after_seconds <= 0) return nominal;
  const auto asked = std::chrono::seconds(std::min<long long>(retry_after_seconds, max_retry_after.count()));
  return std::max<std::chrono::milliseconds>(nominal, asked);
}

reconnect_policy::ms reconnect_policy::scaled(ms nominal) const {
  return ms(static_cast<ms::rep>(static_cast<double>(nominal.count()) * scale_));
}

void reconnect_policy::reset() { network_ = http_ = rate_ = 0; }

void reconnect_policy::connected(time_point at) {
  connected_at_ = at;
  connected_ = true;
}

void reconnect_policy::ended(time_point at) {
  if (connected_ && at - connected_at_ >= healthy_connection) reset();
  connected_ = false;
}

}  // namespace twitter_client
