#pragma once
// Server-Sent Events (the WHATWG HTML standard, "Interpreting an event stream"), fed in pieces as
// they arrive: events cut anywhere across reads, CRLF, LF or CR line ends, multi-line data,
// comments. Memory bounded: an event larger than the limit is dropped whole and counted. Pure.
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace twitter_client::sse {

/// One dispatched event.
struct event {
  std::string type;  ///< the `event:` field; "message" when none was given
  std::string data;  ///< the `data:` lines joined with "\n"
  std::string id;    ///< the last event ID so far (the `id:` field persists across events)
};

/// The largest event kept by default (a Mastodon status is a few kB).
inline constexpr std::size_t default_max_event_bytes = 1 << 20;

class parser {
public:
  explicit parser(std::size_t max_event_bytes = default_max_event_bytes) : max_(max_event_bytes) {}
  /// Feeds bytes; calls on_event for every event completed by a blank line.
  void feed(std::string_view bytes, const std::function<void(const event&)>& on_event);
  /// A new connection: forgets the unfinished line and event (the last event ID stays).
  void reset();
  /// Comment lines seen (":" heartbeats).
  std::size_t comments() const { return comments_; }
  /// Events dropped for passing the size limit.
  std::size_t oversized() const { return oversized_; }
  /// The `retry:` reconnection time the server asked for, in milliseconds.
  std::optional<unsigned long long> retry_ms() const { return retry_ms_; }
  const std::string& last_event_id() const { return last_id_; }

private:
  void line(std::string_view l, const std::function<void(const event&)>& on_event);
  void field(std::string_view name, std::string_view value);
  void drop_event();

  std::size_t max_;
  std::string partial_;     // an unfinished line
  bool skip_line_ = false;  // the unfinished line is already too long: drop it
  bool after_cr_ = false;   // the last byte was CR: a LF first in the next piece ends nothing
  bool started_ = false;    // the first byte was seen (a byte order mark is skipped there only)
  std::string bom_;         // the start of a byte order mark cut across pieces
  event event_;             // the event being built; event_.data without its last "\n"
  bool has_data_ = false;
  bool too_big_ = false;    // the event being built passed the limit: dropped at its blank line
  std::string last_id_;
  std::optional<unsigned long long> retry_ms_;
  std::size_t comments_ = 0, oversized_ = 0;
};

}  // namespace twitter_client::sse
