#include "twitter_client/frame_queue.hpp"

#include "wire/frame.hpp"

namespace twitter_client {

namespace {

// Length of the frame at the front of `frames` (which starts with a whole, valid frame).
std::size_t front_frame_size(std::string_view frames) {
  const auto d = wire::frame::decode(frames);
  return d ? d.consumed : frames.size();
}

// Drops the first frame of a batch in place.
void drop_front_frame(frame_batch& b) {
  b.head += front_frame_size(b.pending());
  --b.frames;
}

}  // namespace

frame_cut cut_frames(std::string_view frames, std::size_t written) {
  frame_cut cut{0, 0};
  while (cut.boundary < frames.size()) {
    const std::size_t next = cut.boundary + front_frame_size(frames.substr(cut.boundary));
    if (next > written) break;
    cut.boundary = next;
    ++cut.frames;
  }
  return cut;
}

std::size_t frame_queue::drop_oldest_locked(std::size_t incoming_frames, std::size_t incoming_bytes) {
  std::size_t dropped = 0;
  while (!batches_.empty() && (frames_ + incoming_frames > max_frames_ || bytes_ + incoming_bytes > max_bytes_)) {
    frame_batch& front = batches_.front();
    const std::size_t frame_excess =
        frames_ + incoming_frames > max_frames_ ? frames_ + incoming_frames - max_frames_ : 0;
    if (front.frames <= frame_excess || bytes_ + incoming_bytes - front.size() > max_bytes_) {
      frames_ -= front.frames;
      bytes_ -= front.size();
      dropped += front.frames;
      batches_.pop_front();
      continue;
    }
    const std::size_t before = front.size();
    drop_front_frame(front);
    --frames_;
    bytes_ -= before - front.size();
    ++dropped;
  }
  return dropped;
}

std::function<void()> frame_queue::take_ready_locked() {
  if (!ready_armed_) return nullptr;
  ready_armed_ = false;
  return ready_;
}

void frame_queue::on_ready(std::function<void()> ready) {
  std::lock_guard lock(mutex_);
  ready_ = std::move(ready);
}

std::size_t frame_queue::push(frame_batch&& batch) {
  if (batch.empty()) return 0;
  std::size_t dropped;
  std::function<void()> ready;
  {
    std::lock_guard lock(mutex_);
    dropped = drop_oldest_locked(batch.frames, batch.size());
    // A batch larger than the whole queue keeps only its newest frames.
    while (batch.frames > 0 && (batch.frames > max_frames_ || batch.size() > max_bytes_)) {
      drop_front_frame(batch);
      ++dropped;
    }
    dropped_ += dropped;
    if (batch.frames > 0) {
      frames_ += batch.frames;
      bytes_ += batch.size();
      batches_.push_back(std::move(batch));
    }
    ready = take_ready_locked();
  }
  if (ready) ready();
  return dropped;
}

std::size_t frame_queue::requeue_front(frame_batch&& batch) {
  if (batch.empty()) return 0;
  std::size_t dropped;
  std::function<void()> ready;
  {
    std::lock_guard lock(mutex_);
    frames_ += batch.frames;
    bytes_ += batch.size();
    batches_.push_front(std::move(batch));
    // The requeued frames are the oldest: they go first if the source filled the queue meanwhile.
    dropped = drop_oldest_locked(0, 0);
    dropped_ += dropped;
    ready = take_ready_locked();
  }
  if (ready) ready();
  return dropped;
}

bool frame_queue::push_wait(frame_batch&& batch) {
  if (batch.empty()) return true;
  std::function<void()> ready;
  {
    std::unique_lock lock(mutex_);
    not_full_.wait(lock, [&] {
      return closed_ || batches_.empty() ||
             (frames_ + batch.frames <= max_frames_ && bytes_ + batch.size() <= max_bytes_);
    });
    if (closed_) return false;
    frames_ += batch.frames;
    bytes_ += batch.size();
    batches_.push_back(std::move(batch));
    ready = take_ready_locked();
  }
  if (ready) ready();
  return true;
}

std::optional<frame_batch> frame_queue::try_pop(std::size_t coalesce) {
  std::unique_lock lock(mutex_);
  if (batches_.empty()) {
    ready_armed_ = !closed_;
    return std::nullopt;
  }
  frame_batch out = std::move(batches_.front());
  batches_.pop_front();
  frames_ -= out.frames;
  bytes_ -= out.size();
  // Live sources push one tweet per batch: merge them so that one write carries many.
  while (!batches_.empty() && out.size() + batches_.front().size() <= coalesce) {
    frame_batch& next = batches_.front();
    out.bytes.append(next.pending());
    out.frames += next.frames;
    frames_ -= next.frames;
    bytes_ -= next.size();
    batches_.pop_front();
  }
  lock.unlock();
  not_full_.notify_all();
  return out;
}

void frame_queue::close() {
  std::function<void()> ready;
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    ready = take_ready_locked();
  }
  not_full_.notify_all();
  if (ready) ready();
}

bool frame_queue::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}
std::size_t frame_queue::frames() const {
  std::lock_guard lock(mutex_);
  return frames_;
}
std::size_t frame_queue::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}
std::size_t frame_queue::dropped() const {
  std::lock_guard lock(mutex_);
  return dropped_;
}

}  // namespace twitter_client
