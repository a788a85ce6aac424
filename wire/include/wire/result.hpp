#pragma once
// The one result convention of wire/: every decoder and parser returns a `parsed<T>`.
//
//   ok         `value` holds what was read; `consumed` bytes of the input made it
//   need_more  the input is a valid beginning; call again with more bytes (stream decoders only)
//   bad        the input can never become valid; `error` says where and why
//
// Parsers of whole inputs (literals, records, forms) never answer need_more: an unfinished
// input is bad. Stream decoders (frames) never keep state: the caller keeps unconsumed bytes.
#include <cstddef>
#include <string>
#include <utility>

namespace wire {

enum class status { ok, need_more, bad };

/// Where and why an input was refused.
struct error {
  std::size_t offset = 0;  ///< byte offset in the input where reading failed
  std::string message;     ///< what was expected or what was wrong
};

template <class T>
struct parsed {
  status state = status::bad;
  std::size_t consumed = 0;  ///< bytes used on ok; 0 otherwise
  T value{};                 ///< meaningful on ok only
  wire::error error;         ///< meaningful on bad only

  explicit operator bool() const noexcept { return state == status::ok; }
  T& operator*() noexcept { return value; }
  const T& operator*() const noexcept { return value; }
  T* operator->() noexcept { return &value; }
  const T* operator->() const noexcept { return &value; }

  static parsed ok(T v, std::size_t used) { return {status::ok, used, std::move(v), {}}; }
  static parsed need_more() { return {status::need_more, 0, T{}, {}}; }
  static parsed bad(std::size_t at, std::string why) { return {status::bad, 0, T{}, {at, std::move(why)}}; }
  /// The same failure for another value type (a parser passing on an inner parser's error).
  template <class U>
  static parsed bad(const parsed<U>& inner) { return {inner.state, 0, T{}, inner.error}; }
};

}  // namespace wire
