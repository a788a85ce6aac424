#include "engine/stream_decoder.hpp"

#include <algorithm>
#include <cstring>

#include "wire/frame.hpp"

namespace engine {

using result = wire::parsed<std::string_view>;

std::span<char> stream_decoder::prepare(std::size_t min_bytes) {
  // Move the pending bytes to the front once the taken ones dominate, then grow if needed.
  if (start_ > 0 && (start_ == end_ || start_ >= size_ / 2 || size_ - end_ < min_bytes)) {
    std::memmove(buf_.get(), buf_.get() + start_, end_ - start_);
    end_ -= start_;
    start_ = 0;
  }
  if (size_ - end_ < min_bytes) {
    auto bigger = std::make_unique_for_overwrite<char[]>(end_ + min_bytes);
    if (end_ > 0) std::memcpy(bigger.get(), buf_.get(), end_);
    buf_ = std::move(bigger);
    size_ = end_ + min_bytes;
  }
  return {buf_.get() + end_, size_ - end_};
}

void stream_decoder::commit(std::size_t n) { end_ += n; }

void stream_decoder::feed(std::string_view bytes) {
  if (bytes.empty()) return;  // with no buffer yet there is no room to copy nothing into
  const auto room = prepare(bytes.size());
  std::memcpy(room.data(), bytes.data(), bytes.size());
  commit(bytes.size());
}

void stream_decoder::shrink_when_idle() {
  const std::size_t left = end_ - start_;
  if (left == 0) {
    buf_.reset();
    size_ = start_ = end_ = scanned_ = 0;
    return;
  }
  if (size_ <= 4 * std::max<std::size_t>(left, 4096)) return;  // small enough, or mostly a real message
  auto smaller = std::make_unique_for_overwrite<char[]>(left);
  std::memcpy(smaller.get(), buf_.get() + start_, left);
  buf_ = std::move(smaller);
  size_ = end_ = left;
  start_ = 0;
}

result stream_decoder::next() {
  if (failed_) return result::bad(0, error_);
  const std::string_view held(buf_.get() + start_, end_ - start_);
  if (format_ == input_format::framed) {
    auto d = wire::frame::decode(held);
    if (d.state == wire::status::ok) start_ += d.consumed;
    if (d.state == wire::status::bad) {
      failed_ = true;
      error_ = d.error.message;
    }
    return d;
  }
  const std::size_t nl = held.find('\n', scanned_);
  if (nl == std::string_view::npos) {
    scanned_ = held.size();
    if (held.size() > max_line) {
      failed_ = true;
      error_ = "a line longer than " + std::to_string(max_line) + " bytes";
      return result::bad(held.size(), error_);
    }
    return result::need_more();
  }
  start_ += nl + 1;
  scanned_ = 0;
  return result::ok(held.substr(0, nl + 1), nl + 1);
}

result stream_decoder::finish() {
  const std::size_t left = end_ - start_;
  if (failed_ || left == 0) return failed_ ? result::bad(0, error_) : result::need_more();
  const std::string_view held(buf_.get() + start_, left);
  start_ = end_;
  scanned_ = 0;
  if (format_ == input_format::lines) return result::ok(held, left);  // a last line without '\n' counts
  return result::bad(0, "ended inside a frame; " + std::to_string(left) + " bytes dropped");
}

}  // namespace engine
