#pragma once
// A source connection's bytes cut into tweets, with no I/O: 5-digit frames (as the client sends
// them) or lines (for netcat). The connection reads into prepare()/commit() (no copy) or hands
// bytes to feed(), then takes tweets with next() until it answers need_more:
//
//   ok         `value` is one tweet's payload, a view valid until the next prepare/feed/finish
//   need_more  every whole tweet has been taken; read more bytes
//   bad        the stream can never be read further: close the connection, `error` says why
//
// At the end of the stream, finish() says what the bytes left over amount to.
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "engine/options.hpp"
#include "wire/result.hpp"

namespace engine {

class stream_decoder {
public:
  /// A line longer than this closes a `lines` connection (a frame's payload is at most 99999 bytes).
  static constexpr std::size_t max_line = 1 << 20;

  explicit stream_decoder(input_format format) : format_(format) {}

  /// Room for at least `min_bytes` more bytes at the end of what is held; write into it, then commit().
  std::span<char> prepare(std::size_t min_bytes);
  /// Adds the first `n` bytes written into the last prepare()'s room.
  void commit(std::size_t n);
  /// Copies `bytes` in (prepare + commit).
  void feed(std::string_view bytes);

  /// The next whole tweet, need_more, or bad (a frame header that is not 5 ASCII digits, a line
  /// over max_line). After bad, every call answers bad again.
  wire::parsed<std::string_view> next();

  /// The stream ended. ok: a last line without '\n' (lines), which counts as a tweet; need_more:
  /// nothing was left over; bad: a frame was cut off (its bytes are dropped, the error says how
  /// many). Call after next() has answered need_more.
  wire::parsed<std::string_view> finish();

  /// Bytes held that are not yet a whole tweet.
  std::size_t pending() const noexcept { return end_ - start_; }
  /// Bytes of memory held for the buffer.
  std::size_t capacity() const noexcept { return size_; }
  /// Frees the buffer when nothing is pending, or shrinks it to what is pending when that is
  /// small: a connection waiting for bytes then holds only its unfinished message.
  void shrink_when_idle();

private:
  input_format format_;
  std::unique_ptr<char[]> buf_;  // bytes [start_, end_) are pending; never zero-filled
  std::size_t size_ = 0;         // bytes allocated
  std::size_t start_ = 0;  // first byte not yet taken
  std::size_t end_ = 0;    // end of the bytes committed
  std::size_t scanned_ = 0;  // lines: bytes after start_ known to hold no '\n'
  bool failed_ = false;
  std::string error_;
};

}  // namespace engine
