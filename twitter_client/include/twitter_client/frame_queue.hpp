#pragma once
// The bounded queue between the source and the engine link: whole frames in batches, the oldest
// frames dropped (and counted) when full so that the source never waits for the engine.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace twitter_client {

/// Consecutive whole frames (wire::frame format); bytes before `head` are already gone.
struct frame_batch {
  std::string bytes;
  std::size_t head = 0;
  std::size_t frames = 0;
  std::string_view pending() const { return std::string_view(bytes).substr(head); }
  std::size_t size() const { return bytes.size() - head; }
  bool empty() const { return frames == 0; }
};

/// Where a partly written run of frames stands: the first frame not completely written starts at
/// `boundary`; `frames` whole frames lie before it.
struct frame_cut {
  std::size_t boundary;
  std::size_t frames;
};

/// Walks the frame headers of `frames` (whole, valid frames) to cut at `written` bytes.
frame_cut cut_frames(std::string_view frames, std::size_t written);

/// Thread-safe FIFO of frame batches, bounded in frames and in bytes. The consumer never blocks
/// in it: it polls with try_pop and, when that finds nothing, is called back by the next push.
class frame_queue {
public:
  frame_queue(std::size_t max_frames, std::size_t max_bytes) : max_frames_(max_frames), max_bytes_(max_bytes) {}

  /// Appends a batch; drops the oldest frames to make room. Returns the frames dropped.
  std::size_t push(frame_batch&& batch);
  /// Puts back, as the oldest, what a failed connection did not send; drops to stay in bounds.
  std::size_t requeue_front(frame_batch&& batch);
  /// Appends a batch, waiting for room instead of dropping; false (batch not queued) once closed.
  bool push_wait(frame_batch&& batch);
  /// Takes the oldest frames now (small batches merged up to `coalesce` bytes); nullopt when empty,
  /// which arms the on_ready function for the next push, requeue or close.
  std::optional<frame_batch> try_pop(std::size_t coalesce = 256 * 1024);
  /// Sets the function an empty try_pop arms; it runs once, outside the lock, in the thread that
  /// pushes (or closes) next, so it must only hand over a wake-up (e.g. asio::post).
  void on_ready(std::function<void()> ready);
  /// No more pushes: try_pop drains what is left, push_wait gives up.
  void close();
  bool closed() const;
  std::size_t frames() const;
  std::size_t bytes() const;
  std::size_t dropped() const;

private:
  std::size_t drop_oldest_locked(std::size_t incoming_frames, std::size_t incoming_bytes);
  std::function<void()> take_ready_locked();

  const std::size_t max_frames_, max_bytes_;
  mutable std::mutex mutex_;
  std::condition_variable not_full_;
  std::function<void()> ready_;
  bool ready_armed_ = false;
  std::deque<frame_batch> batches_;
  std::size_t frames_ = 0, bytes_ = 0, dropped_ = 0;
  bool closed_ = false;
};

}  // namespace twitter_client
