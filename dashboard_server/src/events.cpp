#include "dashboard_server/events.hpp"

namespace dashboard_server {

std::string sse_event(const board& b, std::int64_t now_ms) {
  // board_event_json escapes control characters, so the JSON is one line and cannot end the event early.
  return "id: " + std::to_string(b.version) + "\ndata: " + board_event_json(b, now_ms) + "\n\n";
}

std::string sse_preamble() { return "retry: 1000\n\n"; }

std::string sse_heartbeat() { return ": keep-alive\n\n"; }

stream_step stream_open(const board& b, std::int64_t now_ms) {
  return {stream_action::event, sse_preamble() + sse_event(b, now_ms), b.version};
}

stream_step stream_wake(const board& b, std::uint64_t sent_version, bool closing, std::int64_t now_ms) {
  if (closing) return {stream_action::end, {}, sent_version};
  if (b.version != sent_version) return {stream_action::event, sse_event(b, now_ms), b.version};
  return {stream_action::heartbeat, sse_heartbeat(), sent_version};
}

}  // namespace dashboard_server
