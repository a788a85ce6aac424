#include "twitter_client/unacked_frames.hpp"

#include "wire/frame.hpp"

namespace twitter_client {

const unacked_frames::numbered& unacked_frames::add(frame_batch batch) {
  const std::uint64_t first = next_;
  next_ += batch.frames;
  frames_ += batch.frames;
  bytes_ += batch.size();
  kept_.push_back(numbered{std::move(batch), first});
  return kept_.back();
}

std::size_t unacked_frames::ack(std::uint64_t upto) {
  std::size_t released = 0;
  while (!kept_.empty() && kept_.front().first <= upto) {
    numbered& n = kept_.front();
    if (n.first + n.batch.frames - 1 <= upto) {
      released += n.batch.frames;
      frames_ -= n.batch.frames;
      bytes_ -= n.batch.size();
      kept_.pop_front();
      continue;
    }
    // The ack ends inside this batch: drop its acknowledged frames from the front.
    while (n.first <= upto && n.batch.frames > 0) {
      const auto d = wire::frame::decode(n.batch.pending());
      const std::size_t size = d ? d.consumed : n.batch.size();
      n.batch.head += size;
      bytes_ -= size;
      --n.batch.frames;
      --frames_;
      ++n.first;
      ++released;
    }
    break;
  }
  return released;
}

std::deque<frame_batch> unacked_frames::take_all() {
  std::deque<frame_batch> out;
  for (auto& n : kept_) out.push_back(std::move(n.batch));
  kept_.clear();
  frames_ = bytes_ = 0;
  return out;
}

}  // namespace twitter_client
