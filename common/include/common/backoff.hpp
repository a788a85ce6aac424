#pragma once
// Reconnect and retry delays. Pure: the caller sleeps.
#include <algorithm>
#include <chrono>

namespace common {

/// Exponential back-off: first, doubling, capped at max; reset() after a success.
class backoff {
public:
  using ms = std::chrono::milliseconds;
  constexpr backoff(ms first, ms max) : first_(first), max_(max), next_(first) {}
  /// The delay to wait now; the following call returns twice as much, up to max.
  constexpr ms next() {
    ms d = next_;
    next_ = std::min(max_, next_ * 2);
    return d;
  }
  constexpr void reset() { next_ = first_; }

private:
  ms first_, max_, next_;
};

}  // namespace common
