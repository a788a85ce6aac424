#include "state_store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>
#include <vector>

#include "common/log.hpp"

namespace engine {

namespace fs = std::filesystem;
namespace log = common::log;

namespace {

/// Above this much waiting for the disk, appends stop: the state goes on in memory and the next
/// snapshot covers it (memory stays bounded whatever the disk does).
constexpr std::size_t max_queued_bytes = 64 << 20;
/// A failing disk is retried with a snapshot this often at most.
constexpr std::chrono::seconds max_retry{10};

std::string errno_text(int err) { return std::strerror(err); }

std::string lsn_name(const char* prefix, std::uint64_t lsn, const char* suffix) {
  char name[64];
  std::snprintf(name, sizeof name, "%s%020llu%s", prefix, static_cast<unsigned long long>(lsn), suffix);
  return name;
}

// "<prefix><digits><suffix>" -> digits.
std::optional<std::uint64_t> lsn_of(const std::string& name, std::string_view prefix, std::string_view suffix) {
  if (name.size() != prefix.size() + 20 + suffix.size() || name.compare(0, prefix.size(), prefix) != 0 ||
      name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
    return std::nullopt;
  std::uint64_t v = 0;
  for (std::size_t k = prefix.size(); k < prefix.size() + 20; ++k) {
    if (name[k] < '0' || name[k] > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(name[k] - '0');
  }
  return v;
}

bool read_file(const fs::path& path, std::string& out, std::string& why) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    why = errno_text(errno);
    return false;
  }
  out.clear();
  char buf[1 << 16];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      why = errno_text(errno);
      ::close(fd);
      return false;
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return true;
}

bool write_all(int fd, std::string_view bytes, std::string& why) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      why = n < 0 ? errno_text(errno) : "wrote nothing";
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool sync_dir(const fs::path& dir, std::string& why) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    why = errno_text(errno);
    if (fd >= 0) ::close(fd);
    return false;
  }
  ::close(fd);
  return true;
}

struct dir_listing {
  std::vector<std::uint64_t> snapshots;  // ascending
  std::vector<std::uint64_t> segments;   // first lsns, ascending
};

dir_listing list(const fs::path& dir) {
  dir_listing out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (auto lsn = lsn_of(name, "snapshot-", ".snap")) out.snapshots.push_back(*lsn);
    else if (auto first = lsn_of(name, "log-", ".wal")) out.segments.push_back(*first);
  }
  std::sort(out.snapshots.begin(), out.snapshots.end());
  std::sort(out.segments.begin(), out.segments.end());
  return out;
}

// Loads the newest snapshot that decodes and restores; older ones are the fallback.
state_store::recovery load_snapshot(const fs::path& dir, const dir_listing& files, const std::string& settings,
                                    const std::function<bool(std::string_view, std::string_view)>& load,
                                    bool writable) {
  state_store::recovery r;
  std::string bytes, why;
  for (auto it = files.snapshots.rbegin(); it != files.snapshots.rend(); ++it) {
    const fs::path path = dir / lsn_name("snapshot-", *it, ".snap");
    if (!read_file(path, bytes, why)) {
      log::error("state: cannot read " + path.string() + " (" + why + "); trying an older snapshot");
      continue;
    }
    const auto snap = wal::decode_snapshot(bytes);
    if (!snap) {
      log::error("state: " + path.string() + " is corrupt (" + snap.error.message + "); trying an older snapshot");
      if (writable) {
        std::error_code ignored;
        fs::rename(path, path.string() + ".corrupt", ignored);  // kept for inspection, never read again
      }
      continue;
    }
    if (snap->settings != settings)
      throw std::runtime_error("state in " + dir.string() + " was counted with \"" + std::string(snap->settings) +
                               "\", this engine counts with \"" + settings +
                               "\": start it with the same options, or give it another --state-dir");
    if (!load(snap->state, snap->sessions)) {
      log::error("state: " + path.string() + " does not restore; trying an older snapshot");
      continue;
    }
    r.lsn = snap->lsn;
    r.slide_wall_ms = snap->slide_wall_ms;
    r.from_snapshot = true;
    log::info("state: loaded " + path.filename().string() + " (up to record " + std::to_string(r.lsn) + ")");
    return r;
  }
  if (!load({}, {})) throw std::runtime_error("state: cannot start from an empty state");
  return r;
}

// Replays every record after r.lsn, in order and without gaps; cuts a torn or corrupt tail.
void replay_log(const fs::path& dir, const dir_listing& files, state_store::recovery& r,
                const std::function<void(const wal::record&)>& replay, bool writable) {
  std::string bytes, why;
  for (std::size_t s = 0; s < files.segments.size(); ++s) {
    const bool last = s + 1 == files.segments.size();
    if (!last && files.segments[s + 1] <= r.lsn + 1) continue;  // wholly covered by the snapshot
    const fs::path path = dir / lsn_name("log-", files.segments[s], ".wal");
    if (!read_file(path, bytes, why)) {
      log::error("state: cannot read " + path.string() + " (" + why + "); the log stops before it");
      return;
    }
    const auto head = wal::read_log_header(bytes);
    if (!head) {
      log::error("state: " + path.string() + ": " + head.error.message + "; the log stops before it");
      return;
    }
    if (*head > r.lsn + 1) {
      log::error("state: the log has a gap before " + path.filename().string() + " (records " +
                 std::to_string(r.lsn + 1) + " to " + std::to_string(*head - 1) +
                 " are missing); the state stops at record " + std::to_string(r.lsn));
      return;
    }
    std::string_view rest = std::string_view(bytes).substr(head.consumed);
    std::size_t good = head.consumed;
    while (!rest.empty()) {
      const auto rec = wal::read_record(rest);
      if (!rec) {
        const std::size_t cut = bytes.size() - good;
        const bool torn = rec.state == wire::status::need_more;
        log::warn("state: " + path.filename().string() + ": " +
                  (torn ? std::string("a torn record at its end (a crash while writing)") : rec.error.message) +
                  "; cut " + std::to_string(cut) + " bytes there" + (last ? "" : ", and the log stops at this segment"));
        if (writable && ::truncate(path.c_str(), static_cast<off_t>(good)) != 0)
          log::warn("state: cannot cut " + path.string() + ": " + errno_text(errno));
        if (!last) return;
        break;
      }
      if (rec->lsn == r.lsn + 1) {
        replay(*rec);
        ++r.replayed;
        r.lsn = rec->lsn;
        if (rec->type == wal::record_type::slide) r.slide_wall_ms = rec->wall_ms;
      } else if (rec->lsn > r.lsn + 1) {
        log::error("state: " + path.filename().string() + " skips from record " + std::to_string(r.lsn) + " to " +
                   std::to_string(rec->lsn) + "; the state stops at record " + std::to_string(r.lsn));
        return;
      }
      good += rec.consumed;
      rest.remove_prefix(rec.consumed);
    }
  }
}

}  // namespace

state_store::state_store(asio::io_context& io, const config& cfg, std::string settings)
    : io_(io),
      dir_(cfg.state_dir),
      settings_(std::move(settings)),
      policy_(cfg.fsync),
      fsync_interval_(cfg.fsync_interval),
      checkpoint_interval_(cfg.checkpoint_interval),
      checkpoint_timer_(io) {}

state_store::~state_store() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (writer_.joinable()) writer_.join();
  if (segment_fd_ >= 0) ::close(segment_fd_);
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

state_store::recovery state_store::recover(const std::function<bool(std::string_view, std::string_view)>& load,
                                           const std::function<void(const wal::record&)>& replay) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (!fs::is_directory(dir_, ec)) throw std::runtime_error("--state-dir " + dir_.string() + " is not a directory");
  // One engine per directory. A read-only directory still locks through a read-only descriptor.
  const fs::path lock_path = dir_ / "LOCK";
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0) {
    writable_ = false;
    lock_fd_ = ::open(lock_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (lock_fd_ < 0) lock_fd_ = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  }
  if (lock_fd_ < 0) throw std::runtime_error("cannot open --state-dir " + dir_.string() + ": " + errno_text(errno));
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    std::string holder, why;
    read_file(lock_path, holder, why);
    throw std::runtime_error("--state-dir " + dir_.string() + " is in use by another engine" +
                             (holder.empty() ? std::string() : " (pid " + holder.substr(0, holder.find('\n')) + ")"));
  }
  if (writable_) {
    const std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(lock_fd_, 0) != 0 || ::pwrite(lock_fd_, pid.data(), pid.size(), 0) < 0) writable_ = false;
  }
  if (writable_) {  // a file that was being written when the engine stopped is of no use
    for (const auto& entry : fs::directory_iterator(dir_, ec))
      if (entry.path().extension() == ".tmp") fs::remove(entry.path(), ec);
  } else {
    log::error("state: " + dir_.string() + " is not writable: counting goes on in memory, and nothing is "
               "acknowledged until it is (retrying)");
  }

  const dir_listing files = list(dir_);
  recovery r = load_snapshot(dir_, files, settings_, load, writable_);
  const std::uint64_t from = r.lsn;
  replay_log(dir_, files, r, replay, writable_);
  lsn_ = r.lsn;
  durable_ = r.lsn;  // all of it was on the disk
  last_snapshot_lsn_ = from;
  snapshots_ = list(dir_).snapshots;  // after any corrupt one was set aside
  log::info("state: recovered " + dir_.string() + ": " +
            (r.from_snapshot ? "a snapshot up to record " + std::to_string(from) : std::string("no snapshot")) + ", " +
            std::to_string(r.replayed) + " log records replayed");
  if (!writable_) {
    failed_ = true;
    ++write_failures_;
  }
  return r;
}

state_store::recovery state_store::read_only(const fs::path& dir, const std::string& settings,
                                             const std::function<bool(std::string_view, std::string_view)>& load,
                                             const std::function<void(const wal::record&)>& replay) {
  if (!fs::is_directory(dir)) throw std::runtime_error("--state-dir " + dir.string() + " is not a directory");
  const dir_listing files = list(dir);
  recovery r = load_snapshot(dir, files, settings, load, false);
  replay_log(dir, files, r, replay, false);
  return r;
}

void state_store::start(std::function<std::optional<capture>()> take) {
  take_ = std::move(take);
  // Appends go to a fresh segment that starts after what recovery found.
  std::string why;
  if (writable_ && !open_segment(lsn_ + 1, why)) {
    log::error("state: cannot start a log segment in " + dir_.string() + " (" + why +
               "): counting goes on in memory, nothing is acknowledged until writes succeed (retrying)");
    failed_ = true;
    ++write_failures_;
  }
  writer_failed_ = failed_;
  written_lsn_ = synced_lsn_ = lsn_;
  writer_ = std::thread([this] { writer_loop(); });
  schedule_checkpoint(failed_ ? retry_ : checkpoint_interval_);
}

std::uint64_t state_store::log_tweet(std::uint64_t session, std::uint64_t frame, std::string_view text) {
  wal::append_tweet(pending_, ++lsn_, session, frame, text);
  pending_last_ = lsn_;
  return lsn_;
}

std::uint64_t state_store::log_slides(std::uint32_t count, std::int64_t wall_ms) {
  wal::append_slide(pending_, ++lsn_, count, wall_ms);
  pending_last_ = lsn_;
  return lsn_;
}

// While writes fail the records stay in pending_ (up to a bound): once a snapshot covering what
// came before them is on the disk, they follow it in the new segment and the log has no gap.
// Beyond the bound they are dropped (gap_), and only a later snapshot can cover them.
void state_store::flush() {
  if (pending_.empty()) return;
  if (failed_) {
    if (pending_.size() > max_queued_bytes) {
      pending_.clear();
      gap_ = true;
    }
    return;
  }
  bool overflow = false;
  {
    std::lock_guard lock(mutex_);
    if (queued_bytes_ + pending_.size() > max_queued_bytes) {
      overflow = true;
    } else {
      queued_bytes_ += pending_.size();
      jobs_.push_back(job{job::kind::append, std::move(pending_), pending_last_});
    }
  }
  pending_.clear();
  if (overflow) {
    ++write_failures_;
    failed_ = true;
    gap_ = true;
    log::error("state: the disk takes the log more slowly than the engine counts (over " +
               std::to_string(max_queued_bytes >> 20) + " MiB waiting): counting goes on in memory, nothing is "
               "acknowledged until a snapshot covers it");
    schedule_checkpoint(std::chrono::milliseconds(0));
  }
  wake_.notify_one();
}

void state_store::schedule_checkpoint(std::chrono::steady_clock::duration after) {
  checkpoint_timer_.expires_after(after);
  checkpoint_timer_.async_wait([this](const std::error_code& err) {
    if (!err) checkpoint();
  });
}

void state_store::checkpoint() {
  if (snapshot_in_flight_ || !take_ || (!failed_ && lsn_ == last_snapshot_lsn_)) {  // busy, or nothing new
    schedule_checkpoint(failed_ ? retry_ : checkpoint_interval_);
    return;
  }
  std::optional<capture> taken = take_();
  if (!taken) {  // a tweet is half counted: its log record covers all of it; a moment later
    schedule_checkpoint(std::chrono::milliseconds(5));
    return;
  }
  const capture& c = *taken;
  if (failed_) {
    pending_.clear();  // the snapshot covers these, and whatever a gap lost
    gap_ = false;
  } else {
    flush();  // the records before the snapshot go to the old segment, in order
  }
  std::string bytes = wal::encode_snapshot(wal::snapshot{lsn_, c.slide_wall_ms, settings_, c.sessions, c.state});
  {
    std::lock_guard lock(mutex_);
    queued_bytes_ += bytes.size();
    jobs_.push_back(job{job::kind::snapshot, std::move(bytes), lsn_});
  }
  snapshot_in_flight_ = true;
  wake_.notify_one();
  schedule_checkpoint(failed_ ? retry_ : checkpoint_interval_);
}

asio::awaitable<bool> state_store::final_checkpoint(std::chrono::steady_clock::duration deadline) {
  if (!writer_.joinable()) co_return false;
  const std::uint64_t want = lsn_;
  const auto until = std::chrono::steady_clock::now() + deadline;
  asio::steady_timer tick(io_);
  while (std::chrono::steady_clock::now() < until) {
    if (!snapshot_in_flight_ && last_snapshot_lsn_ >= want) co_return true;
    if (!snapshot_in_flight_) checkpoint();  // waits a moment itself while a tweet is half counted
    tick.expires_after(std::chrono::milliseconds(5));
    co_await tick.async_wait(asio::use_awaitable);
  }
  co_return false;
}

void state_store::report(std::uint64_t durable, bool failed, std::string why, bool snapshot_done) {
  asio::post(io_, [this, durable, failed, why = std::move(why), snapshot_done] {
    if (snapshot_done) snapshot_in_flight_ = false;
    if (failed) ++write_failures_;
    if (snapshot_done && !failed) ++snapshots_written_;
    if (failed) {
      if (!failed_)
        log::error("state: writing to " + dir_.string() + " failed (" + why +
                   "): counting goes on in memory, nothing is acknowledged until writes succeed (retrying)");
      failed_ = true;
      gap_ = true;  // what the writer held when it failed is not on the disk
      retry_ = std::min<std::chrono::milliseconds>(retry_ * 2, max_retry);
      schedule_checkpoint(retry_);
      return;
    }
    if (snapshot_done) {
      last_snapshot_lsn_ = durable;
      if (failed_ && gap_) {
        schedule_checkpoint(std::chrono::milliseconds(0));  // records were lost after it: one more
      } else if (failed_) {
        log::info("state: writing to " + dir_.string() + " works again; a snapshot covers everything counted");
        failed_ = false;
        retry_ = std::chrono::milliseconds(1000);
        flush();
        schedule_checkpoint(checkpoint_interval_);
      }
    }
    if (durable > durable_) {
      durable_ = durable;
      if (on_durable_) on_durable_(durable_);
    }
  });
}

void state_store::writer_loop() {
  std::unique_lock lock(mutex_);
  while (true) {
    const bool unsynced = written_lsn_ > synced_lsn_ && policy_ == fsync_policy::interval;
    if (jobs_.empty() && !stopping_) {
      if (unsynced) wake_.wait_until(lock, unsynced_since_ + fsync_interval_);
      else wake_.wait(lock);
    }
    if (jobs_.empty() && stopping_ && written_lsn_ == synced_lsn_) break;
    std::deque<job> batch;
    batch.swap(jobs_);
    queued_bytes_ = 0;
    const bool stop_after = stopping_;
    lock.unlock();

    for (job& j : batch) {
      std::string why;
      if (j.what == job::kind::append) {
        if (writer_failed_ || segment_fd_ < 0) continue;  // a snapshot will cover it
        if (!write_segment_bytes(j.bytes, why)) {
          writer_failed_ = true;
          report(synced_lsn_, true, why, false);
          continue;
        }
        if (written_lsn_ == synced_lsn_) unsynced_since_ = std::chrono::steady_clock::now();
        written_lsn_ = j.lsn;
      } else if (write_snapshot(j.bytes, j.lsn, why)) {
        writer_failed_ = false;
        written_lsn_ = synced_lsn_ = j.lsn;
        report(j.lsn, false, {}, true);
      } else {
        report(synced_lsn_, true, why, true);
      }
    }
    // Group commit: one flush covers every record written since the last.
    const auto now = std::chrono::steady_clock::now();
    if (written_lsn_ > synced_lsn_ && !writer_failed_) {
      if (policy_ == fsync_policy::never) {
        synced_lsn_ = written_lsn_;
        report(synced_lsn_, false, {}, false);
      } else if (policy_ == fsync_policy::always || stop_after || now >= unsynced_since_ + fsync_interval_) {
        sync_segment();
      }
    }
    lock.lock();
  }
}

bool state_store::write_segment_bytes(const std::string& bytes, std::string& why) {
  if (!write_all(segment_fd_, bytes, why)) {
    // Cut what was written of the failed batch, so that the segment ends on a whole record.
    if (::ftruncate(segment_fd_, segment_size_) != 0) {
    }
    ::lseek(segment_fd_, segment_size_, SEEK_SET);
    return false;
  }
  segment_size_ += static_cast<off_t>(bytes.size());
  return true;
}

void state_store::sync_segment() {
  if (::fdatasync(segment_fd_) != 0) {
    writer_failed_ = true;
    report(synced_lsn_, true, "fdatasync: " + errno_text(errno), false);
    return;
  }
  synced_lsn_ = written_lsn_;
  report(synced_lsn_, false, {}, false);
}

bool state_store::open_segment(std::uint64_t first_lsn, std::string& why) {
  const fs::path path = dir_ / lsn_name("log-", first_lsn, ".wal");
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    why = "opening " + path.filename().string() + ": " + errno_text(errno);
    return false;
  }
  const std::string head = wal::log_header(first_lsn);
  if (!write_all(fd, head, why) || ::fdatasync(fd) != 0 || !sync_dir(dir_, why)) {
    if (why.empty()) why = errno_text(errno);
    ::close(fd);
    std::error_code ignored;
    fs::remove(path, ignored);
    return false;
  }
  if (segment_fd_ >= 0) ::close(segment_fd_);
  segment_fd_ = fd;
  segment_first_ = first_lsn;
  segment_size_ = static_cast<off_t>(head.size());
  return true;
}

bool state_store::write_snapshot(const std::string& bytes, std::uint64_t lsn, std::string& why) {
  // The log up to the snapshot goes to the disk first: a fallback to the older snapshot replays it.
  if (segment_fd_ >= 0 && !writer_failed_ && written_lsn_ > synced_lsn_ && ::fdatasync(segment_fd_) == 0)
    synced_lsn_ = written_lsn_;
  const fs::path final_path = dir_ / lsn_name("snapshot-", lsn, ".snap");
  const fs::path tmp = final_path.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    why = "creating " + tmp.filename().string() + ": " + errno_text(errno);
    return false;
  }
  bool ok = write_all(fd, bytes, why);
  if (ok && ::fsync(fd) != 0) {
    why = "fsync: " + errno_text(errno);
    ok = false;
  }
  ::close(fd);
  std::error_code ec;
  if (ok) {
    fs::rename(tmp, final_path, ec);
    if (ec) {
      why = "rename: " + ec.message();
      ok = false;
    }
  }
  if (ok && !sync_dir(dir_, why)) ok = false;
  if (!ok) {
    fs::remove(tmp, ec);
    return false;
  }
  // Later records go to a new segment; the older kept snapshot's log stays for a fallback.
  if (!open_segment(lsn + 1, why)) {
    why = "the snapshot was written, but " + why;
    writer_failed_ = true;  // appends wait for the next snapshot
  }
  snapshots_.push_back(lsn);
  prune(lsn);
  return true;
}

void state_store::prune(std::uint64_t) {
  // Keep the two newest snapshots, and the segments any record after the older one may be in.
  std::sort(snapshots_.begin(), snapshots_.end());
  snapshots_.erase(std::unique(snapshots_.begin(), snapshots_.end()), snapshots_.end());
  while (snapshots_.size() > 2) {
    std::error_code ec;
    fs::remove(dir_ / lsn_name("snapshot-", snapshots_.front(), ".snap"), ec);
    snapshots_.erase(snapshots_.begin());
  }
  const std::uint64_t keep_from = snapshots_.front() + 1;
  std::error_code ec;
  const dir_listing files = list(dir_);
  for (std::size_t s = 0; s + 1 < files.segments.size(); ++s)
    if (files.segments[s + 1] <= keep_from && files.segments[s] != segment_first_)
      fs::remove(dir_ / lsn_name("log-", files.segments[s], ".wal"), ec);
}

}  // namespace engine
