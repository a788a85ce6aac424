#pragma once
// Trending, not only all-time: exact counts of every hashtag over a sliding window of processing
// time, an optional trend score against the window before it, and the exact top N, all kept
// incrementally.
//
// Time is cut into slots of one slide each; the window is the newest `slots` of them. slide()
// starts a new slot, so the oldest one leaves the window (and with the trend score enters "the
// window before", which keeps `slots` more). Each hashtag event costs O(1): a hash lookup, a
// counter in the current slot, and the same bubbling of the top N as the all-time counter, since
// events only ever raise a score. A slide costs O(1) per (tag, slot) pair that moves, plus, for
// the tags it touched (and the ones events touched since the last slide), the update of a
// tournament tree over all tags that finds the best tag outside the top N when a member falls:
// O(log n) per distinct tag touched in a slide, never a scan of all tags.
//
// Ranking: score descending, ties by first seen, where a tag is first seen when it enters the
// state; a tag whose every kept slot is empty is forgotten, and starts over if it comes back.
// Only tags with a score above 0 are listed.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/bytes.hpp"
#include "engine/origin.hpp"
#include "engine/record_text.hpp"
#include "engine/tag_table.hpp"
#include "wire/record.hpp"

namespace engine {

enum class score_kind {
  count,  ///< the number of occurrences in the window
  trend,  ///< Mastodon's: o = count in the window, e = max(1, count in the window before);
          ///< (o - e)^2 / e, floored, 0 unless o > e and o >= min_count
};

struct window_options {
  std::size_t top = 10;          ///< hashtags per record
  std::size_t slots = 60;        ///< slides per window (>= 1)
  score_kind score = score_kind::count;
  std::int64_t min_count = 5;    ///< trend: the least count in the window that can score
  /// First-seen numbers are renumbered when they reach this (tests lower it to see that happen).
  std::uint32_t seq_limit = UINT32_MAX;
  bool by_origin = false;        ///< ties rank by the origins given to add(), not by first seen here
};

/// The trend score of a tag counted `o` times in the window and `previous` times in the one before.
std::int64_t trend_score(std::int64_t o, std::int64_t previous, std::int64_t min_count) noexcept;

class windowed_counter {
public:
  explicit windowed_counter(window_options options);

  /// Counts one occurrence of `key` in the current slot. `display` is the spelling a record
  /// shows for the key; it is taken when the key enters the state (the spelling seen first).
  void add(std::string_view key, std::string_view display);
  void add(std::string_view key) { add(key, key); }
  /// As add(key, display), for a counter made `by_origin`: the key's origin is the smallest given
  /// since it entered the state.
  void add(std::string_view key, std::string_view display, origin at);

  /// Starts the next slot: the oldest one leaves the window. Tags left with no count in any kept
  /// slot are forgotten.
  void slide();

  /// True when the top N (its tags, their order or their numbers) changed since clear_changed().
  bool changed() const noexcept { return changed_; }
  void clear_changed() noexcept { changed_ = false; }

  /// Appends the record of the current top N, as the Python 3 engine writes it; an empty top N
  /// is {'label': '[]', 'data': '[]'}.
  void append_record(std::string& out);

  /// The current top N in rank order, with their scores as `counts`.
  wire::record::top_list top() const;

  std::size_t distinct() const noexcept { return live_; }        ///< tags held
  std::uint64_t events() const noexcept { return events_; }      ///< hashtag events counted
  std::uint64_t slides() const noexcept { return slide_; }       ///< slides so far
  std::size_t pairs() const noexcept;                            ///< (tag, slot) counters held
  /// Bytes of state per held tag beyond its text (tables, counters, tree), for the benchmark.
  std::size_t bytes_per_tag() const noexcept;
  /// Bytes held by the tables, counters, tree and slots, beyond the hashtags' text (capacity).
  std::size_t memory_bytes() const noexcept;

  /// Appends the whole state: the options it was made with, every tag held (spelling, first-seen
  /// order) and every kept slot's counts.
  void save(bytes_out& out) const;
  /// Replaces the state with one that save() wrote; false, and an empty state, on bad input or
  /// when it was made with other options (`why` says which).
  bool restore(bytes_in& in, std::string& why);
  /// The largest slide number restore() accepts (2^62: one slide a microsecond for 146,000 years).
  static constexpr std::uint64_t max_slide = std::uint64_t{1} << 62;

  /// The origins of the current top N, in rank order (`by_origin` only).
  std::vector<origin> top_origins() const;
  /// Appends / restores every held tag's origin, after save() / restore() (`by_origin` only);
  /// restoring ranks the top N again.
  void save_origins(bytes_out& out) const;
  bool restore_origins(bytes_in& in);

  /// Calls f(display, score) for every tag held, in first-seen order (--dump-state).
  template <class F>
  void for_each_tag(F&& f) const {
    std::vector<id_t> ids;
    for (id_t id = 0; id < key_off_.size(); ++id)
      if (key_len_[id] > 0) ids.push_back(id);
    std::sort(ids.begin(), ids.end(), [this](id_t a, id_t b) { return seq_[a] < seq_[b]; });
    for (const id_t id : ids) f(display_of(id), score(id), in_window_[id]);
  }

private:
  using id_t = std::uint32_t;
  static constexpr id_t none = UINT32_MAX;

  struct pair {  // a tag's count in one slot
    id_t id;
    std::uint32_t count;
  };
  struct entry {  // one place in the top N, with the tag's record text cached
    id_t id;
    ranked_text text;
  };
  entry make_entry(id_t id) const {
    entry e{id, {make_fragment(display_of(id))}};
    e.text.set_number(score(id));
    return e;
  }

  /// The ranked number: the count in the window, or the trend score (kept up to date).
  std::int64_t score(id_t id) const noexcept {
    return options_.score == score_kind::trend ? score_[id] : in_window_[id];
  }
  bool ahead(id_t a, id_t b) const noexcept {  // a ranks before b
    const std::int64_t sa = score(a), sb = score(b);
    if (sa != sb) return sa > sb;
    if (options_.by_origin && origin_[a] != origin_[b]) return origin_[a] < origin_[b];
    return seq_[a] < seq_[b];
  }
  void bump(id_t id);
  void rank_from_scratch();
  /// The score computed from the counts (score_ caches it for the trend score).
  std::int64_t score_of(id_t id) const noexcept;
  id_t find_or_create(std::string_view key, std::string_view display);
  void forget(id_t id);
  static constexpr std::uint8_t dirty_bit = 1;    // changed since the last flush of the tree
  static constexpr std::uint8_t current_bit = 2;  // has a pair in the current slot, at pair_at_
  void touch(id_t id) {
    if (!(flags_[id] & dirty_bit)) {
      flags_[id] |= dirty_bit;
      dirty_list_.push_back(id);
    }
  }
  void renumber_first_seen();
  void rise(std::size_t pos);
  void enter_top(id_t id);
  void repair_top_after_slide();
  void flush_tree();
  id_t tree_pick(id_t a, id_t b) const noexcept;
  void grow_tree();
  void compact_arena();
  std::string_view key_of(id_t id) const noexcept { return {arena_.data() + key_off_[id], key_len_[id]}; }
  /// The display spelling follows the key in the arena; its length 0 means "the key itself".
  std::string_view display_of(id_t id) const noexcept {
    return disp_len_[id] == 0 ? key_of(id) : std::string_view{arena_.data() + key_off_[id] + key_len_[id], disp_len_[id]};
  }
  void grow_tags();

  window_options options_;
  std::size_t kept_;            // slots kept: the window, and with the trend score the one before
  std::uint64_t slide_ = 0;     // the current slot's number
  std::uint64_t events_ = 0;
  std::uint32_t next_seq_ = 0;  // first-seen order; renumbered when it would wrap
  std::size_t live_ = 0;
  bool changed_ = false;

  // Tags by id (ids are reused after a tag is forgotten).
  tag_table table_;                   // key -> id
  std::string arena_;                 // key and display texts
  std::size_t arena_garbage_ = 0;     // bytes of forgotten texts
  std::vector<std::uint32_t> key_off_, key_len_, disp_len_;
  std::vector<std::int64_t> in_window_, before_, score_;  // before_ and score_: trend score only
  std::vector<std::uint32_t> seq_;
  std::vector<origin> origin_;          // by_origin only
  std::vector<std::uint32_t> pair_at_;  // the tag's pair in the current slot (with current_bit)
  std::vector<std::uint32_t> rank_;   // position in top_, or none
  std::vector<std::uint8_t> flags_;  // dirty_bit, current_bit
  std::vector<id_t> dirty_list_;      // tags whose score or membership changed since the last flush
  std::vector<id_t> free_ids_;

  std::vector<std::vector<pair>> slots_;  // ring of kept slots

  // Tournament tree over ids, laid out as a binary heap of 2 * leaves_ nodes: node i's children
  // are 2i and 2i+1, leaf k is node leaves_ + k, node 1 is the best of all. Leaves hold the id of
  // a tag outside the top N with a score above 0 (else none). Updated in batches, at slides only.
  std::vector<id_t> tree_;
  std::size_t leaves_ = 0;
  std::vector<std::vector<std::size_t>> levels_;  // flush_tree's nodes to recompute, by depth

  std::vector<entry> top_;
  record_cache record_;
};

}  // namespace engine
