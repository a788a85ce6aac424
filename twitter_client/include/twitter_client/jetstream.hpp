#pragma once
// Bluesky's Jetstream (JSON over WebSocket): what a message is, which ones the client forwards,
// the cursor to resume from and the de-duplication of what a resumed connection replays. Pure.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "twitter_client/lang_filter.hpp"
#include "wire/result.hpp"

namespace twitter_client::jetstream {

/// The collection the client subscribes to (wantedCollections) and forwards.
inline constexpr std::string_view post_collection = "app.bsky.feed.post";

enum class event_type {
  post,          ///< a commit creating an app.bsky.feed.post whose record has a string text
  other_commit,  ///< deletes, updates, other collections, a post record without text
  identity,      ///< kind "identity"
  account,       ///< kind "account"
  other,         ///< any other kind, or none
};

/// One Jetstream message, the fields the client uses.
struct message {
  event_type type = event_type::other;
  std::int64_t time_us = 0;  ///< the server's cursor for this event; 0 when absent
  std::string did;
  std::string rkey;                ///< commits only
  std::string text;                ///< posts only: record.text
  std::vector<std::string> langs;  ///< posts only: record.langs
};

/// Parses one WebSocket text message. Bad when it is not valid JSON, not an object, or when
/// time_us, did, kind or a post's rkey are of the wrong type.
wire::parsed<message> parse_message(std::string_view bytes);

/// What happens to a message.
enum class verdict {
  forward,     ///< a new post: its text goes to the engine
  duplicate,   ///< a post already forwarded, replayed after a reconnect
  other_lang,  ///< a post in none of the --lang languages
  ignored,     ///< not a post (deletes, updates, other collections, identity, account, ...)
};

/// The state kept across connections.
class session {
public:
  /// How far before the last event handled a resumed connection starts (Jetstream's advice:
  /// rewind a few seconds for gapless playback).
  static constexpr std::int64_t rewind_us = 3'000'000;
  /// At most this many posts are remembered for de-duplication (a hostile server sending many
  /// events with one time_us cannot grow memory without bound).
  static constexpr std::size_t max_remembered = 100'000;

  explicit session(lang_filter langs = {}) : langs_(std::move(langs)) {}
  /// Decides about one parsed message and remembers what it needs to.
  verdict handle(const message& m);
  /// The cursor for the next connection: the time_us of the last event handled minus rewind_us;
  /// nullopt before any event (live tail).
  std::optional<std::int64_t> resume_cursor() const;
  /// Posts remembered now.
  std::size_t remembered() const { return order_.size(); }

private:
  void forget_old();

  lang_filter langs_;
  std::int64_t last_us_ = 0;
  std::deque<std::pair<std::int64_t, std::string>> order_;  // (stream time_us at arrival, did/rkey)
  std::unordered_set<std::string> keys_;
};

}  // namespace twitter_client::jetstream
