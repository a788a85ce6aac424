#pragma once
// The top list over time, for GET /history and the page's line chart: at most one snapshot per
// second (the newest update of each second wins), none older than the span, and never more than
// a fixed number of bytes. Pure: app/ keeps one beside the board, under the same mutex.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "dashboard_server/routes.hpp"

namespace dashboard_server {

/// Entries of a board kept in a snapshot: the top 10, as the page's charts show.
inline constexpr std::size_t history_top = top_n;
/// The snapshots' JSON together holds at most this many bytes; beyond it the oldest go first.
/// Short hashtags take ~300 bytes a second (an hour: ~1 MiB); ten 280-character hashtags of
/// 4-byte characters changing every second take ~11 KiB a second, so the budget keeps ~6 minutes.
inline constexpr std::size_t history_max_bytes = 4 * 1024 * 1024;
/// A shared /history body is built again at most this often (slow readers share one copy).
inline constexpr std::chrono::milliseconds history_rebuild_every{1000};

class history {
public:
  /// Keeps snapshots of the last `span` (whole seconds, at least one).
  explicit history(std::chrono::seconds span);

  /// Takes the board's first history_top entries as the snapshot of the second of b.updated_ms,
  /// replacing the one of that second if any; then drops the snapshots the span no longer
  /// reaches, and the oldest while the bytes are over history_max_bytes (the newest always
  /// stays). A clock that went back drops the snapshots after the new one.
  void record(const board& b);

  /// GET /history's body: [{"t": ms, "r_hashtags": [...], "r_counts": [...]}, ...], oldest
  /// first, only the snapshots of the span that ends at `now_ms`.
  std::string json(std::int64_t now_ms) const;

  std::size_t size() const noexcept { return ring_.size(); }  ///< snapshots held
  std::size_t bytes() const noexcept { return bytes_; }       ///< JSON bytes held
  std::chrono::seconds span() const noexcept { return span_; }

private:
  struct snapshot {
    std::int64_t second;  // updated_ms / 1000, rounded down
    std::string json;
  };
  std::deque<snapshot> ring_;
  std::size_t bytes_ = 0;
  std::chrono::seconds span_;
};

/// The second a Unix-millisecond time falls in (rounded down, also before 1970).
std::int64_t second_of(std::int64_t ms) noexcept;

/// GET /history: `body` (from history::json) as JSON, not cached, shared by the readers that
/// take it at the same time.
response history_response(std::shared_ptr<const std::string> body);

}  // namespace dashboard_server
