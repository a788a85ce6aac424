#pragma once
// The tweet texts inside a run of whole frames (wire::frame: 5 digits, the text, '\n'), for a sink
// that wants texts rather than frames: twitter_client --kafka makes each one a Kafka record.
#include <string_view>

#include "wire/frame.hpp"

namespace twitter_client {

/// Calls f(text) for each frame of `frames` (whole, valid frames as the queue holds them), the
/// text without the frame's closing '\n'. Returns the number of frames.
template <class F>
std::size_t for_each_frame_text(std::string_view frames, F&& f) {
  std::size_t n = 0;
  while (!frames.empty()) {
    const auto frame = wire::frame::decode(frames);
    if (!frame) break;
    std::string_view text = frame.value;
    if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
    f(text);
    frames.remove_prefix(frame.consumed);
    ++n;
  }
  return n;
}

}  // namespace twitter_client
