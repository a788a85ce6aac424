#pragma once
// The stateful step: exact all-time counts of every hashtag and its top N, kept up to date
// incrementally, and the output record of the top N. The original kept a pandas DataFrame and
// ran nlargest(10) per event; the Python 3 port's order is count descending, ties by first seen.
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

class top_counter {
public:
  /// Keeps the top `n` (n >= 1). `by_origin`: ties rank by the smallest origin given to add(),
  /// not by first seen here (counts split over several counters, engine --kafka).
  explicit top_counter(std::size_t n, bool by_origin = false);

  /// Counts one more occurrence of `key` and updates the top N. `display` is the spelling records
  /// show for the key, taken when the key is first seen.
  void add(std::string_view key, std::string_view display);
  void add(std::string_view tag) { add(tag, tag); }
  /// As add(key, display), for a counter made `by_origin`: the key's origin becomes the smaller of
  /// its own and `at`.
  void add(std::string_view key, std::string_view display, origin at);

  /// True when the top N (its tags, their order or their counts) changed since clear_changed().
  bool changed() const noexcept { return changed_; }
  void clear_changed() noexcept { changed_ = false; }

  /// Appends the record of the current top N exactly as the Python 3 engine writes it:
  /// {'label': "[...]", 'data': '[...]'};;\n . Call only after at least one add().
  void append_record(std::string& out);

  /// The current top N, in rank order.
  wire::record::top_list top() const;

  std::size_t distinct() const noexcept { return counts_.size(); }
  std::uint64_t events() const noexcept { return events_; }
  /// Bytes held by the tables and counters, beyond the hashtags' text (capacity, not size).
  std::size_t memory_bytes() const noexcept;

  /// Appends the whole state: every tag in first-seen order, with its spelling and count.
  void save(bytes_out& out) const;
  /// Replaces the state with one that save() wrote; false, and an empty state, on bad input.
  bool restore(bytes_in& in);

  /// The origins of the current top N, in rank order (`by_origin` only).
  std::vector<origin> top_origins() const;
  /// Appends / restores every tag's origin, after save() / restore() (`by_origin` only); restoring
  /// ranks the top N again.
  void save_origins(bytes_out& out) const;
  bool restore_origins(bytes_in& in);

  /// Calls f(display, count) for every tag in first-seen order (--dump-state).
  template <class F>
  void for_each_tag(F&& f) const {
    for (id_t id = 0; id < counts_.size(); ++id) f(display_of(id), counts_[id]);
  }

private:
  using id_t = std::uint32_t;
  static constexpr std::uint32_t not_ranked = UINT32_MAX;

  struct entry {  // one place in the top N, with the tag's record text cached
    id_t id;
    ranked_text text;
  };

  id_t intern(std::string_view key, std::string_view display);
  void rebuild_table_and_top();
  std::string_view display_of(id_t id) const noexcept {  // follows the key in the arena; 0: the key itself
    return {arena_.data() + offset_[id] + (display_[id] ? length_[id] : 0), display_[id] ? display_[id] : length_[id]};
  }
  bool ahead(id_t a, id_t b) const noexcept {  // a ranks before b
    if (counts_[a] != counts_[b]) return counts_[a] > counts_[b];
    if (!origin_.empty() && origin_[a] != origin_[b]) return origin_[a] < origin_[b];  // by_origin_ (empty while restoring)
    return a < b;  // ids are first-seen order
  }
  void bump(id_t id);
  void rise(std::size_t pos);
  entry make_entry(id_t id) const;


  std::size_t n_;
  bool by_origin_ = false;
  std::vector<origin> origin_;  // by_origin_ only
  std::uint64_t events_ = 0;
  // Interned tags: bytes in one arena, looked up through an open-addressing table.
  std::string arena_;
  std::vector<std::uint32_t> offset_, length_, display_;
  std::vector<std::int64_t> counts_;
  std::vector<std::uint32_t> rank_;  // position in top_, or not_ranked
  tag_table table_;                  // text -> id
  std::vector<entry> top_;
  record_cache record_;
  bool changed_ = false;
};

}  // namespace engine
