#pragma once
// Latest wins: the slot between the engine's records and the one HTTP connection to the
// dashboard, and how a POST's answer is classified. Pure: the caller does the I/O and the waiting.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "common/backoff.hpp"

namespace socket_receiver {

using clock = std::chrono::steady_clock;

/// How one POST to the dashboard ended.
enum class outcome {
  delivered,  ///< 2xx: the dashboard shows the record
  rejected,   ///< 4xx: the dashboard will never take this record; retrying it is pointless
  failed,     ///< no answer or 5xx: the dashboard is down or busy; try again later
};

/// Classifies an HTTP status; 0 means no response at all (connection refused, timeout).
outcome classify(long http_status) noexcept;

/// Latest wins: one waiting record and at most one in flight. Each record is a full top-10, so
/// a newer one makes an unsent older one worthless; the dashboard is at most one POST behind.
class latest_slot {
public:
  /// Retries after failures wait `retry.next()`; the default is 100 ms doubling to 2 s.
  explicit latest_slot(common::backoff retry = common::backoff(std::chrono::milliseconds(100), std::chrono::seconds(2)))
      : retry_(retry) {}

  /// Stores `body` as the waiting record; true when it replaced one never delivered (superseded).
  bool offer(std::string body);

  /// When nothing is in flight, a record waits and no retry delay runs at `now`: moves the
  /// record in flight and returns it; otherwise nullopt.
  std::optional<std::string> take(clock::time_point now);

  /// Ends the in-flight POST. A failed record waits again (unless a newer one came meanwhile)
  /// and the delay before the next attempt is returned; otherwise nullopt.
  std::optional<clock::duration> done(outcome result, clock::time_point now);

  /// True while a POST is in flight.
  bool in_flight() const noexcept { return in_flight_; }
  /// True when a record waits to be sent.
  bool waiting() const noexcept { return waiting_.has_value(); }
  /// When take() can next succeed: nullopt when nothing waits or a POST is in flight.
  std::optional<clock::time_point> ready_at() const noexcept;
  /// Consecutive failed attempts since the last delivered or rejected POST.
  std::uint64_t failing_streak() const noexcept { return streak_; }

  std::uint64_t forwarded() const noexcept { return forwarded_; }    ///< delivered POSTs
  std::uint64_t superseded() const noexcept { return superseded_; }  ///< records replaced unsent
  std::uint64_t rejected() const noexcept { return rejected_; }      ///< records the dashboard refused
  std::uint64_t failures() const noexcept { return failures_; }      ///< failed attempts

private:
  common::backoff retry_;
  std::optional<std::string> waiting_;
  std::string flying_;
  bool in_flight_ = false;
  clock::time_point not_before_{};
  std::uint64_t streak_ = 0;
  std::uint64_t forwarded_ = 0, superseded_ = 0, rejected_ = 0, failures_ = 0;
};

}  // namespace socket_receiver
