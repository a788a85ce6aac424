#pragma once
// The Server-Sent Events stream as pure decisions: what a stream writes when it opens and each
// time it wakes up. app/ does the waiting and the writing.
#include <chrono>
#include <cstdint>
#include <string>

#include "dashboard_server/routes.hpp"

namespace dashboard_server {

/// A stream with nothing new writes a heartbeat this often (proxies and browsers time out silence).
inline constexpr std::chrono::seconds heartbeat_every{15};

/// One Server-Sent Event carrying the board (board_event_json at `now_ms`); its id is the version.
std::string sse_event(const board& b, std::int64_t now_ms);

/// What an event stream starts with: the reconnect delay the browser should use.
std::string sse_preamble();

/// A comment line that keeps proxies and the browser from timing the stream out.
std::string sse_heartbeat();

/// What a stream does after a wake-up.
enum class stream_action { event, heartbeat, end };

/// A stream's next step: what to do and the bytes to write (none for end).
struct stream_step {
  stream_action action = stream_action::end;
  std::string bytes;
  std::uint64_t sent_version = 0;  ///< the version the stream has shown after this step
};

/// The first write of a new stream: the retry delay, then the current board at once.
stream_step stream_open(const board& b, std::int64_t now_ms);

/// After a wait (woken by an update, by the heartbeat time, or by the server closing): end when
/// closing; the newest board when its version differs from `sent_version` (a slow reader jumps
/// straight to the newest board); otherwise a heartbeat.
stream_step stream_wake(const board& b, std::uint64_t sent_version, bool closing, std::int64_t now_ms);

}  // namespace dashboard_server
