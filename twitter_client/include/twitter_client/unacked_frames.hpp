#pragma once
// The frames of an acknowledged-delivery session (wire/delivery.hpp) that the engine has not yet
// acknowledged: numbered when first sent, kept until an ack covers them, sent again in order
// after a reconnect (the engine skips those it applied already). Pure: the engine link does I/O.
#include <cstddef>
#include <cstdint>
#include <deque>

#include "twitter_client/frame_queue.hpp"

namespace twitter_client {

class unacked_frames {
public:
  struct numbered {
    frame_batch batch;
    std::uint64_t first = 0;  ///< the number of the batch's first pending frame
  };

  /// Numbers a batch's frames from next() on and keeps it; returns the kept batch.
  const numbered& add(frame_batch batch);
  /// Releases every frame numbered up to `upto` (a batch cut in the middle keeps its tail);
  /// returns how many frames were released.
  std::size_t ack(std::uint64_t upto);
  /// The number the next new frame gets (frames are numbered from 1).
  std::uint64_t next() const noexcept { return next_; }
  /// The number of the oldest frame not acknowledged; next() when all are.
  std::uint64_t first() const noexcept { return kept_.empty() ? next_ : kept_.front().first; }
  std::size_t frames() const noexcept { return frames_; }
  std::size_t bytes() const noexcept { return bytes_; }
  bool empty() const noexcept { return frames_ == 0; }
  /// The kept batches, oldest first.
  const std::deque<numbered>& batches() const noexcept { return kept_; }
  /// Numbers `n` frames that were sent without being kept (they go unacknowledged).
  void skip(std::size_t n) noexcept { next_ += n; }
  /// Gives every kept frame back, oldest first, forgetting their numbers (the engine turned out
  /// not to acknowledge: they are sent again as plain frames).
  std::deque<frame_batch> take_all();

private:
  std::deque<numbered> kept_;
  std::uint64_t next_ = 1;
  std::size_t frames_ = 0, bytes_ = 0;
};

}  // namespace twitter_client
