#pragma once
// The stateful step as configured: all-time counts (top_counter, the original's) or counts over a
// sliding window with a count or trend score (windowed_counter), behind one interface for the
// app and the sink; and the hashtags of a tweet as configured (the original's rule or
// twitter-text's, exact or normalised).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/hashtags.hpp"
#include "engine/options.hpp"
#include "engine/top_counter.hpp"
#include "engine/windowed_counter.hpp"
#include "wire/record.hpp"

namespace engine {

/// The window settings for a config with --window (slots = window / slide, at least 1).
window_options window_settings(const config& cfg);

class counting {
public:
  explicit counting(const config& cfg);
  /// `by_origin`: ties rank by the origins given to add() (engine --kafka), not by first seen here.
  counting(const config& cfg, bool by_origin);

  /// Counts one hashtag under `key`, shown as `display` (the spelling seen first).
  void add(std::string_view key, std::string_view display) {
    if (window_) window_->add(key, display);
    else all_time_->add(key, display);
  }
  /// Counts one hashtag with its origin (a counter made `by_origin`).
  void add(std::string_view key, std::string_view display, origin at) {
    if (window_) window_->add(key, display, at);
    else all_time_->add(key, display, at);
  }
  /// The origins of the current top N, in rank order (`by_origin`).
  std::vector<origin> top_origins() const { return window_ ? window_->top_origins() : all_time_->top_origins(); }
  /// The whole state with every tag's origin (`by_origin`), and back; false leaves an empty state.
  std::string save_with_origins() const;
  bool restore_with_origins(std::string_view bytes, std::string& why);

  /// True with --window: slide() must then be called once per slide.
  bool windowed() const noexcept { return window_.has_value(); }
  /// Moves the window on by one slide (windowed only).
  void slide() { window_->slide(); }

  /// True when the top N changed since clear_changed().
  bool changed() const noexcept { return window_ ? window_->changed() : all_time_->changed(); }
  void clear_changed() noexcept { window_ ? window_->clear_changed() : all_time_->clear_changed(); }

  /// Appends the current top N's record, exactly as the original writes it.
  void append_record(std::string& out) { window_ ? window_->append_record(out) : all_time_->append_record(out); }
  wire::record::top_list top() const { return window_ ? window_->top() : all_time_->top(); }

  std::uint64_t events() const noexcept { return window_ ? window_->events() : all_time_->events(); }
  std::size_t distinct() const noexcept { return window_ ? window_->distinct() : all_time_->distinct(); }
  std::size_t memory_bytes() const noexcept { return window_ ? window_->memory_bytes() : all_time_->memory_bytes(); }

  /// The whole state, as bytes (see the counters' save()).
  std::string save() const;
  /// Replaces the state with saved bytes; false (`why` says why) leaves an empty state.
  bool restore(std::string_view bytes, std::string& why);

  /// Calls f(tag, number, count in the window) for every tag held, first seen first: the number
  /// is the all-time count or the window's score.
  template <class F>
  void for_each_tag(F&& f) const {
    if (window_) window_->for_each_tag(f);
    else all_time_->for_each_tag([&](std::string_view tag, std::int64_t count) { f(tag, count, count); });
  }

private:
  std::optional<top_counter> all_time_;
  std::optional<windowed_counter> window_;
};

/// The hashtags of one tweet, each with the key it is counted under and the text records show.
class tweet_tags {
public:
  tweet_tags(hashtag_rule rule, normalization norm) : rule_(rule), norm_(norm) {}

  /// Starts on a tweet (valid UTF-8); the views returned below are valid until the next start().
  void start(std::string_view tweet);
  /// Moves to the next hashtag; false when there is none left.
  bool next();
  /// What the hashtag is counted under (the display text, or its normalised form).
  std::string_view key() const noexcept { return key_; }
  /// The hashtag as shown: '#' and the text as written (twitter-text: '＃' becomes '#').
  std::string_view display() const noexcept { return display_; }

private:
  hashtag_rule rule_;
  normalization norm_;
  hashtag_cursor cursor_{{}};
  std::vector<std::string_view> found_;  // twitter-text: the hashtags' texts, without the hash mark
  std::size_t next_found_ = 0;
  std::string display_buf_, key_buf_;
  std::string_view key_, display_;
};

}  // namespace engine
