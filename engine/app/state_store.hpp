#pragma once
// The engine's state on disk (--state-dir): an append-only log of what was accepted, written by a
// thread of its own with group commit, and snapshots that let the log be cut. Recovery loads the
// newest good snapshot and replays the log after it. See docs/engine.md, "Nothing lost".
//
//   DIR/LOCK                      held (flock) by the engine using DIR; a second one is refused
//   DIR/snapshot-<lsn>.snap       the newest two; an older one is the fallback for a corrupt newer
//   DIR/log-<first lsn>.wal       segments from the older kept snapshot on
#include <asio.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "engine/options.hpp"
#include "engine/wal.hpp"

namespace engine {

class state_store {
public:
  /// What a checkpoint writes, captured on the io thread.
  struct capture {
    std::string state;
    std::string sessions;
    std::int64_t slide_wall_ms = 0;
  };
  /// What recovery found.
  struct recovery {
    std::uint64_t lsn = 0;            ///< the last record applied
    std::uint64_t replayed = 0;       ///< log records applied after the snapshot
    std::int64_t slide_wall_ms = 0;   ///< when the current slot began (0: no state)
    bool from_snapshot = false;
  };

  /// `settings` names what the state is counted with; a directory holding state counted otherwise
  /// is refused.
  state_store(asio::io_context& io, const config& cfg, std::string settings);
  ~state_store();
  state_store(const state_store&) = delete;
  state_store& operator=(const state_store&) = delete;

  /// Locks the directory and reads it: `load` gets the snapshot's state and sessions (false: they
  /// do not restore), `replay` every later log record in order. Throws std::runtime_error with
  /// the reason when the engine cannot go on (the directory is held by another engine, unreadable,
  /// or holds state counted with other settings). Logs what it did (fallbacks, cut tails).
  recovery recover(const std::function<bool(std::string_view state, std::string_view sessions)>& load,
                   const std::function<void(const wal::record&)>& replay);

  /// Starts the writer thread; `take` captures the state for checkpoints (on the io thread), or
  /// answers nullopt while the state is between two consistent points (a checkpoint waits).
  void start(std::function<std::optional<capture>()> take);

  /// Appends a record for an accepted tweet; returns its lsn. Written at the next flush().
  std::uint64_t log_tweet(std::uint64_t session, std::uint64_t frame, std::string_view text);
  /// Appends a record for `count` slides, the last at `wall_ms`.
  std::uint64_t log_slides(std::uint32_t count, std::int64_t wall_ms);
  /// Hands what was logged since the last flush to the writer (once per batch of input).
  void flush();

  /// The last lsn handed out.
  std::uint64_t last_lsn() const noexcept { return lsn_; }
  /// The highest lsn known durable (by the --fsync policy); advances on the io thread.
  std::uint64_t durable_lsn() const noexcept { return durable_; }
  /// Called on the io thread whenever durable_lsn() advances.
  void on_durable(std::function<void(std::uint64_t)> f) { on_durable_ = std::move(f); }
  /// False while writes fail: what is counted since is in memory only, and nothing is acknowledged.
  bool healthy() const noexcept { return !failed_; }
  /// Failed writes (log, fdatasync, snapshot) and log overflows so far.
  std::uint64_t write_failures() const noexcept { return write_failures_; }
  /// Snapshots written so far.
  std::uint64_t snapshots_written() const noexcept { return snapshots_written_; }

  /// Writes a snapshot now (a clean stop); true once it is durable, false after `deadline`.
  asio::awaitable<bool> final_checkpoint(std::chrono::steady_clock::duration deadline);

  /// The counter state and sessions of the newest good snapshot plus the log, for --dump-state:
  /// a read-only recovery that takes no lock and writes nothing.
  static recovery read_only(const std::filesystem::path& dir, const std::string& settings,
                            const std::function<bool(std::string_view, std::string_view)>& load,
                            const std::function<void(const wal::record&)>& replay);

private:
  struct job {
    enum class kind { append, snapshot } what = kind::append;
    std::string bytes;
    std::uint64_t lsn = 0;  // append: the last record's; snapshot: the one it covers
  };

  void writer_loop();
  bool write_segment_bytes(const std::string& bytes, std::string& why);
  bool write_snapshot(const std::string& bytes, std::uint64_t lsn, std::string& why);
  bool open_segment(std::uint64_t first_lsn, std::string& why);
  void sync_segment();
  void prune(std::uint64_t kept_lsn);
  void report(std::uint64_t durable, bool failed, std::string why, bool snapshot_done);
  void checkpoint();
  void schedule_checkpoint(std::chrono::steady_clock::duration after);

  asio::io_context& io_;
  std::filesystem::path dir_;
  std::string settings_;
  fsync_policy policy_;
  std::chrono::milliseconds fsync_interval_;
  std::chrono::milliseconds checkpoint_interval_;
  int lock_fd_ = -1;
  bool writable_ = true;

  // io thread
  std::string pending_;
  std::uint64_t lsn_ = 0;
  std::uint64_t pending_last_ = 0;
  std::uint64_t durable_ = 0;
  bool failed_ = false;          // writes fail, or the log lost records: appends wait for a snapshot
  bool gap_ = false;             // records were dropped since the last snapshot was captured
  bool snapshot_in_flight_ = false;
  std::chrono::milliseconds retry_{1000};
  std::function<std::optional<capture>()> take_;
  std::function<void(std::uint64_t)> on_durable_;
  asio::steady_timer checkpoint_timer_;
  std::uint64_t last_snapshot_lsn_ = 0;
  std::uint64_t write_failures_ = 0;
  std::uint64_t snapshots_written_ = 0;

  // shared with the writer thread
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<job> jobs_;
  std::size_t queued_bytes_ = 0;
  bool stopping_ = false;
  std::thread writer_;

  // writer thread
  int segment_fd_ = -1;
  std::uint64_t segment_first_ = 0;
  std::uint64_t written_lsn_ = 0;
  std::uint64_t synced_lsn_ = 0;
  off_t segment_size_ = 0;
  bool writer_failed_ = false;
  std::chrono::steady_clock::time_point unsynced_since_{};
  std::vector<std::uint64_t> snapshots_;  // lsns of the snapshots on disk, oldest first
};

}  // namespace engine
