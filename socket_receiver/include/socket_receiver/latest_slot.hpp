#pragma once
// The receiver's logic without I/O: the latest-wins slot between the engine's records and the
// one HTTP connection to the dashboard, the form body the original receiver posts, and the
// tallies behind the log lines.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/backoff.hpp"
#include "wire/record.hpp"

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

/// application/x-www-form-urlencoded text of one value, as Python's urllib quote_plus writes it.
std::string form_urlencode(std::string_view text);

/// The POST body the original receiver sends: label and data as canonical Python 3 list
/// literals, so that the original Flask app shows '#café' whatever engine wrote the record.
std::string form_body(const wire::record::top_list& top);

/// Malformed records counted by kind (the parser's message), so each kind is logged once.
class malformed_tally {
public:
  /// Distinct kinds kept; the rest are counted under one "other" kind so memory stays bounded.
  static constexpr std::size_t max_kinds = 64;

  /// Counts one malformed record; true when its kind is new (the caller logs it in full).
  bool note(std::string_view kind);
  /// All malformed records so far.
  std::uint64_t total() const noexcept { return total_; }
  /// How many records of one kind were seen.
  std::uint64_t count(std::string_view kind) const;

private:
  std::map<std::string, std::uint64_t, std::less<>> kinds_;
  std::uint64_t total_ = 0;
};

/// What one read's complete records amount to: only the newest valid one is worth forwarding.
struct drained {
  std::uint64_t received = 0;                    ///< complete records taken from the splitter
  std::uint64_t valid = 0;                       ///< records that parsed (0 or 1: the newest valid one)
  std::uint64_t unparsed = 0;                    ///< records older than the newest valid one, superseded unparsed
  std::optional<wire::record::top_list> newest;  ///< the last valid record, if any
  std::vector<std::string> new_kinds;            ///< first-seen malformed kinds, with the offset, to log
};

/// Takes every complete record out of `split` and parses them newest first (Python 3 and Python 2
/// records alike) until one is valid: each record is a full top-10, so older ones in the same read
/// are superseded without the cost of parsing them (parsing is ~15x the cost of splitting, and the
/// engine can write hundreds of thousands of records a second). Malformed records met on the way
/// are counted in `malformed`.
drained drain(wire::record::splitter& split, malformed_tally& malformed);

/// The counters of the periodic log line.
struct stats {
  std::uint64_t connections = 0, received = 0, forwarded = 0, superseded = 0, malformed = 0,
                overflows = 0, rejected = 0, failures = 0;
};

/// "received=.. forwarded=.. superseded=.. malformed=.. overflows=.. rejected=.. failed_attempts=.."
std::string stats_line(const stats& s);

}  // namespace socket_receiver
