#include "socket_receiver/latest_slot.hpp"

namespace socket_receiver {

outcome classify(long http_status) noexcept {
  if (http_status >= 200 && http_status < 300) return outcome::delivered;
  // 408 and 429 say "later", not "never".
  if (http_status >= 400 && http_status < 500 && http_status != 408 && http_status != 429) return outcome::rejected;
  return outcome::failed;
}

bool latest_slot::offer(std::string body) {
  const bool replaced = waiting_.has_value();
  if (replaced) ++superseded_;
  waiting_ = std::move(body);
  return replaced;
}

std::optional<std::string> latest_slot::take(clock::time_point now) {
  if (in_flight_ || !waiting_ || now < not_before_) return std::nullopt;
  flying_ = std::move(*waiting_);
  waiting_.reset();
  in_flight_ = true;
  return flying_;
}

std::optional<clock::duration> latest_slot::done(outcome result, clock::time_point now) {
  in_flight_ = false;
  if (result != outcome::failed) {
    result == outcome::delivered ? ++forwarded_ : ++rejected_;
    streak_ = 0;
    retry_.reset();
    not_before_ = {};
    flying_.clear();
    return std::nullopt;
  }
  ++failures_;
  ++streak_;
  if (waiting_) {
    ++superseded_;  // a newer top-10 arrived while this one was failing: send that one instead
  } else {
    waiting_ = std::move(flying_);
  }
  flying_.clear();
  const clock::duration delay = retry_.next();
  not_before_ = now + delay;
  return delay;
}

std::optional<clock::time_point> latest_slot::ready_at() const noexcept {
  if (in_flight_ || !waiting_) return std::nullopt;
  return not_before_;
}

}  // namespace socket_receiver
