#pragma once
// Which frames of each acknowledged-delivery session (wire/delivery.hpp) the engine has applied:
// a resend after a reconnect skips them, so that a tweet is counted once. Bounded: the sessions
// least recently heard from are forgotten beyond max_sessions (a client gone for good).
#include <cstddef>
#include <cstdint>
#include <list>
#include <string>
#include <unordered_map>

#include "engine/bytes.hpp"

namespace engine {

class delivery_sessions {
public:
  static constexpr std::size_t max_sessions = 4096;

  /// The highest frame of `session` applied so far, 0 if none.
  std::uint64_t applied(std::uint64_t session) const;
  /// True when `frame` is new for the session (and records it as applied); false for a frame
  /// applied already. Frames of a session come in order; a gap (frames lost before they were
  /// ever seen) is accepted.
  bool apply(std::uint64_t session, std::uint64_t frame);
  std::size_t size() const noexcept { return order_.size(); }

  void save(bytes_out& out) const;
  /// false, and no sessions, on bad input.
  bool restore(bytes_in& in);

private:
  struct entry {
    std::uint64_t session;
    std::uint64_t applied;
  };
  std::list<entry> order_;  // most recently used first
  std::unordered_map<std::uint64_t, std::list<entry>::iterator> by_id_;
};

}  // namespace engine
