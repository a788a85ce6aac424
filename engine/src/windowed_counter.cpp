#include "engine/windowed_counter.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <stdexcept>
#include <utility>


namespace engine {

namespace {
__extension__ using uint128 = unsigned __int128;  // (o - e)^2 overflows 64 bits beyond 3 billion
}  // namespace

std::int64_t trend_score(std::int64_t o, std::int64_t previous, std::int64_t min_count) noexcept {
  const std::int64_t e = std::max<std::int64_t>(1, previous);
  if (o <= e || o < min_count) return 0;
  const auto d = static_cast<uint128>(o - e);
  const uint128 s = d * d / static_cast<uint128>(e);
  return s > static_cast<uint128>(INT64_MAX) ? INT64_MAX : static_cast<std::int64_t>(s);
}

windowed_counter::windowed_counter(window_options options)
    : options_(options),
      kept_((options.slots == 0 ? 1 : options.slots) * (options.score == score_kind::trend ? 2 : 1)),
      table_(7, 10) {
  if (options_.slots == 0) options_.slots = 1;
  if (options_.top == 0) options_.top = 1;
  slots_.resize(kept_);
  top_.reserve(options_.top);
}

std::int64_t windowed_counter::score_of(id_t id) const noexcept {
  if (options_.score == score_kind::count) return in_window_[id];
  return trend_score(in_window_[id], before_[id], options_.min_count);
}

windowed_counter::id_t windowed_counter::find_or_create(std::string_view key, std::string_view display) {
  const auto f = table_.find(key, [&](id_t id) {
    return key_len_[id] == key.size() && std::memcmp(arena_.data() + key_off_[id], key.data(), key.size()) == 0;
  });
  if (f.hit) return f.id;
  // A new tag (or one forgotten and back): it is first seen now.
  if (arena_.size() + key.size() + display.size() > 0xFFFFFFFFu) compact_arena();
  if (arena_.size() + key.size() + display.size() > 0xFFFFFFFFu || live_ >= 0xFFFFFFF0u)
    throw std::length_error("hashtag state is full (4 billion hashtags or 4 GiB of hashtag text in the window)");
  id_t id;
  if (!free_ids_.empty()) {
    id = free_ids_.back();
    free_ids_.pop_back();
  } else {
    id = static_cast<id_t>(key_off_.size());
    grow_tags();
  }
  key_off_[id] = static_cast<std::uint32_t>(arena_.size());
  key_len_[id] = static_cast<std::uint32_t>(key.size());
  arena_.append(key);
  disp_len_[id] = 0;
  if (display != key) {
    arena_.append(display);
    disp_len_[id] = static_cast<std::uint32_t>(display.size());
  }
  in_window_[id] = 0;
  if (options_.score == score_kind::trend) before_[id] = score_[id] = 0;
  if (next_seq_ == options_.seq_limit) renumber_first_seen();
  seq_[id] = next_seq_++;
  flags_[id] = 0;  // no pair in the current slot yet
  rank_[id] = none;
  ++live_;
  table_.insert(f, id, live_);  // grows past 0.7 full
  return id;
}

void windowed_counter::renumber_first_seen() {
  // First-seen numbers only order the tags held: when they would wrap, number those 0.. again,
  // in the same order (after 4 billion tags seen, not held).
  std::vector<id_t> ids;
  for (id_t id = 0; id < key_off_.size(); ++id)
    if (key_len_[id] > 0) ids.push_back(id);
  std::sort(ids.begin(), ids.end(), [this](id_t a, id_t b) { return seq_[a] < seq_[b]; });
  for (std::uint32_t k = 0; k < ids.size(); ++k) seq_[ids[k]] = k;
  next_seq_ = static_cast<std::uint32_t>(ids.size());
}

void windowed_counter::forget(id_t id) {
  table_.erase(tag_table::hash(key_of(id)), id);
  arena_garbage_ += key_len_[id] + disp_len_[id];
  key_len_[id] = disp_len_[id] = 0;
  --live_;
  free_ids_.push_back(id);
  if (arena_garbage_ > (1u << 20) && arena_garbage_ * 2 > arena_.size()) compact_arena();
}

void windowed_counter::compact_arena() {
  std::string fresh;
  fresh.reserve(arena_.size() - arena_garbage_);
  std::vector<std::uint8_t> is_free(key_off_.size(), 0);
  for (const id_t id : free_ids_) is_free[id] = 1;
  for (id_t id = 0; id < key_off_.size(); ++id) {
    if (is_free[id]) continue;
    const std::uint32_t at = static_cast<std::uint32_t>(fresh.size());
    fresh.append(arena_, key_off_[id], key_len_[id] + disp_len_[id]);
    key_off_[id] = at;
  }
  arena_.swap(fresh);
  arena_garbage_ = 0;
}

void windowed_counter::rise(std::size_t pos) {
  if (rise_in_top(top_, rank_, record_, pos, [this](id_t a, id_t b) { return ahead(a, b); })) changed_ = true;
}

void windowed_counter::enter_top(id_t id) {
  // Only `id`'s score rose, so the new top N is the top N of the old one plus it.
  if (top_.size() < options_.top) {
    top_.push_back(make_entry(id));
  } else if (ahead(id, top_.back().id)) {
    const id_t out = top_.back().id;
    rank_[out] = none;
    touch(out);  // back among the candidates of the tree
    top_.back() = make_entry(id);
  } else {
    return;
  }
  rank_[id] = static_cast<std::uint32_t>(top_.size() - 1);
  record_.ranking_changed();
  changed_ = true;
  rise(top_.size() - 1);
}

void windowed_counter::add(std::string_view key, std::string_view display) { bump(find_or_create(key, display)); }

void windowed_counter::add(std::string_view key, std::string_view display, origin at) {
  const std::size_t live = live_;
  const id_t id = find_or_create(key, display);
  if (live_ != live || at < origin_[id]) origin_[id] = at;  // new, or ranks the tag higher
  bump(id);
}

void windowed_counter::bump(id_t id) {
  ++in_window_[id];
  ++events_;
  auto& current = slots_[slide_ % kept_];
  if ((flags_[id] & current_bit) && current[pair_at_[id]].count < UINT32_MAX) {
    ++current[pair_at_[id]].count;
  } else {  // a slot's count that would overflow starts a second pair for the same tag
    pair_at_[id] = static_cast<std::uint32_t>(current.size());
    current.push_back(pair{id, 1});
    flags_[id] |= current_bit;
  }
  touch(id);
  std::int64_t before_score = 0, after_score = 0;
  if (options_.score == score_kind::trend) {
    before_score = score_[id];
    after_score = score_[id] = score_of(id);
  } else {
    after_score = in_window_[id];
    before_score = after_score - 1;
  }
  if (rank_[id] != none) {
    if (after_score != before_score) {
      changed_ = true;
      top_[rank_[id]].text.set_number(after_score);
      record_.numbers_changed();
    }
    rise(rank_[id]);
  } else if (after_score > 0) {
    enter_top(id);
  }
}

windowed_counter::id_t windowed_counter::tree_pick(id_t a, id_t b) const noexcept {
  if (a == none) return b;
  if (b == none) return a;
  return ahead(b, a) ? b : a;
}

void windowed_counter::grow_tags() {
  // Per-tag arrays grow by a quarter, not double: they are most of the state per tag.
  const std::size_t n = key_off_.size() + 1;
  if (n > key_off_.capacity()) {
    const std::size_t cap = std::max<std::size_t>(1024, key_off_.capacity() + key_off_.capacity() / 4);
    for (auto* v : {&key_off_, &key_len_, &disp_len_, &pair_at_, &rank_, &seq_}) v->reserve(cap);
    if (options_.by_origin) origin_.reserve(cap);
    for (auto* v : {&in_window_, &before_, &score_}) v->reserve(options_.score == score_kind::trend || v == &in_window_ ? cap : 0);
    flags_.reserve(cap);
  }
  key_off_.push_back(0);
  key_len_.push_back(0);
  disp_len_.push_back(0);
  in_window_.push_back(0);
  if (options_.score == score_kind::trend) {
    before_.push_back(0);
    score_.push_back(0);
  }
  seq_.push_back(0);
  if (options_.by_origin) origin_.push_back(origin{});
  pair_at_.push_back(0);
  rank_.push_back(none);
  flags_.push_back(0);
  if (key_off_.size() > leaves_) grow_tree();
}

void windowed_counter::grow_tree() {
  leaves_ = std::max<std::size_t>(1024, key_off_.capacity());
  tree_.assign(2 * leaves_, none);
  tree_.shrink_to_fit();
  for (id_t id = 0; id < key_off_.size(); ++id)
    if (rank_[id] == none && key_len_[id] > 0 && score_of(id) > 0) tree_[leaves_ + id] = id;
  for (std::size_t node = leaves_ - 1; node >= 1; --node) tree_[node] = tree_pick(tree_[2 * node], tree_[2 * node + 1]);
}

void windowed_counter::flush_tree() {
  if (dirty_list_.empty()) return;
  // With any number of leaves, they sit at two depths: recompute the dirty leaves' ancestors
  // deepest first, each node once, so a node is recomputed after all its changed children.
  auto depth = [](std::size_t node) { return static_cast<std::size_t>(std::bit_width(node)); };
  levels_.resize(depth(2 * leaves_) + 1);
  for (const id_t id : dirty_list_) {
    flags_[id] &= static_cast<std::uint8_t>(~dirty_bit);
    const bool candidate = rank_[id] == none && key_len_[id] > 0 && score_of(id) > 0;
    const std::size_t leaf = leaves_ + id;
    tree_[leaf] = candidate ? id : none;
    levels_[depth(leaf / 2)].push_back(leaf / 2);
  }
  dirty_list_.clear();
  for (std::size_t d = levels_.size(); d-- > 1;) {
    auto& nodes = levels_[d];
    if (nodes.empty()) continue;
    std::sort(nodes.begin(), nodes.end());
    nodes.erase(std::unique(nodes.begin(), nodes.end()), nodes.end());
    for (const std::size_t node : nodes) {
      tree_[node] = tree_pick(tree_[2 * node], tree_[2 * node + 1]);
      if (node > 1) levels_[d - 1].push_back(node / 2);
    }
    nodes.clear();
  }
}

void windowed_counter::slide() {
  // What the top N showed, to tell whether the slide changed it.
  std::vector<std::pair<id_t, std::int64_t>> shown;
  shown.reserve(top_.size());
  for (const auto& e : top_) shown.emplace_back(e.id, score(e.id));

  for (const pair& p : slots_[slide_ % kept_]) flags_[p.id] &= static_cast<std::uint8_t>(~current_bit);
  ++slide_;
  const std::size_t w = options_.slots;
  const bool trend = options_.score == score_kind::trend;
  if (slide_ >= w) {  // the oldest slot of the window leaves it (and enters the window before)
    auto& leaving = slots_[(slide_ - w) % kept_];
    for (const pair& p : leaving) {
      in_window_[p.id] -= p.count;
      if (trend) before_[p.id] += p.count;
      touch(p.id);
    }
    if (!trend) leaving.clear();
  }
  if (trend && slide_ >= 2 * w) {  // and the oldest of the window before leaves that one
    auto& gone = slots_[(slide_ - 2 * w) % kept_];
    for (const pair& p : gone) {
      before_[p.id] -= p.count;
      touch(p.id);
    }
    gone.clear();
  }
  auto& current = slots_[slide_ % kept_];
  if (current.capacity() > 4096 && current.capacity() > 4 * current.size()) std::vector<pair>().swap(current);

  // Tags with nothing left in any kept slot are forgotten once the tree has dropped them.
  std::vector<id_t> forgotten;
  for (const id_t id : dirty_list_) {
    if (trend) score_[id] = score_of(id);
    if (in_window_[id] == 0 && (!trend || before_[id] == 0)) forgotten.push_back(id);
  }
  repair_top_after_slide();  // members left with no score leave the top N here
  for (const id_t id : forgotten) forget(id);

  bool same = shown.size() == top_.size();
  for (std::size_t k = 0; same && k < top_.size(); ++k)
    same = shown[k].first == top_[k].id && shown[k].second == score(top_[k].id);
  if (!same) {
    changed_ = true;
    for (auto& e : top_) e.text.set_number(score(e.id));  // the few members: numbers may have moved
    record_.numbers_changed();
  }
}

void windowed_counter::repair_top_after_slide() {
  // Members' scores only fell or stayed (counts left the window) or, with the trend score, moved
  // either way: sort the few of them again, and drop those that no longer score.
  for (std::size_t k = 1; k < top_.size(); ++k) {
    for (std::size_t j = k; j > 0 && ahead(top_[j].id, top_[j - 1].id); --j) {
      std::swap(top_[j], top_[j - 1]);
      record_.ranking_changed();
    }
  }
  while (!top_.empty() && score(top_.back().id) <= 0) {
    rank_[top_.back().id] = none;
    touch(top_.back().id);
    top_.pop_back();
    record_.ranking_changed();
  }
  for (std::size_t k = 0; k < top_.size(); ++k) rank_[top_[k].id] = static_cast<std::uint32_t>(k);

  // Then let the best tags outside in while they beat the last member.
  flush_tree();
  auto set_leaf = [this](id_t id, id_t value) {
    std::size_t node = leaves_ + id;
    tree_[node] = value;
    for (node /= 2; node >= 1; node /= 2) tree_[node] = tree_pick(tree_[2 * node], tree_[2 * node + 1]);
  };
  while (!tree_.empty() && tree_[1] != none) {
    const id_t best = tree_[1];
    if (top_.size() == options_.top && !ahead(best, top_.back().id)) break;
    if (top_.size() == options_.top) {
      const id_t out = top_.back().id;
      rank_[out] = none;
      top_.pop_back();
      set_leaf(out, out);  // it still scores: a candidate again
    }
    top_.push_back(make_entry(best));
    rank_[best] = static_cast<std::uint32_t>(top_.size() - 1);
    set_leaf(best, none);
    record_.ranking_changed();
    std::size_t pos = top_.size() - 1;
    while (pos > 0 && ahead(top_[pos].id, top_[pos - 1].id)) {
      std::swap(top_[pos], top_[pos - 1]);
      rank_[top_[pos].id] = static_cast<std::uint32_t>(pos);
      rank_[top_[pos - 1].id] = static_cast<std::uint32_t>(pos - 1);
      --pos;
    }
  }
}

void windowed_counter::append_record(std::string& out) {
  record_.append(top_.size(), [this](std::size_t k) -> const ranked_text& { return top_[k].text; }, out);
}

wire::record::top_list windowed_counter::top() const {
  wire::record::top_list t;
  for (const auto& e : top_) {
    t.labels.emplace_back(display_of(e.id));
    t.counts.push_back(score(e.id));
  }
  return t;
}

void windowed_counter::save(bytes_out& out) const {
  out.varint(options_.slots);
  out.u8(options_.score == score_kind::trend ? 1 : 0);
  out.varint(static_cast<std::uint64_t>(options_.min_count));
  out.u64(slide_);
  out.u64(events_);
  out.u64(next_seq_);
  // Tags held, numbered 0.. in the order written; slots refer to them by that number.
  std::vector<std::uint32_t> index(key_off_.size(), UINT32_MAX);
  out.varint(live_);
  std::uint32_t next = 0;
  for (id_t id = 0; id < key_off_.size(); ++id) {
    if (key_len_[id] == 0) continue;
    index[id] = next++;
    out.text(key_of(id));
    out.text(disp_len_[id] ? display_of(id) : std::string_view{});
    out.u64(seq_[id]);
  }
  const std::uint64_t first = slide_ + 1 >= kept_ ? slide_ + 1 - kept_ : 0;
  for (std::uint64_t k = first; k <= slide_; ++k) {
    const auto& slot = slots_[k % kept_];
    out.varint(slot.size());
    for (const pair& p : slot) {
      out.varint(index[p.id]);
      out.varint(p.count);
    }
  }
}

bool windowed_counter::restore(bytes_in& in, std::string& why) {
  *this = windowed_counter(options_);
  auto fail = [&](std::string reason) {
    why = std::move(reason);
    *this = windowed_counter(options_);
    return false;
  };
  std::uint64_t slots = 0, min_count = 0, live = 0;
  std::uint8_t trend = 0;
  if (!in.varint(slots) || !in.u8(trend) || !in.varint(min_count)) return fail("truncated");
  const bool want_trend = options_.score == score_kind::trend;
  if (slots != options_.slots || (trend != 0) != want_trend ||
      (want_trend && static_cast<std::int64_t>(min_count) != options_.min_count))
    return fail("it was made with another window, slide or score (" + std::to_string(slots) + " slides per window, " +
                (trend ? "trend score, min count " + std::to_string(min_count) : std::string("count")) + ")");
  std::uint64_t next_seq = 0;
  if (!in.u64(slide_) || !in.u64(events_) || !in.u64(next_seq) || !in.varint(live) || live > 0xFFFFFFF0u ||
      next_seq > UINT32_MAX)
    return fail("truncated");
  // Slides are counted from 0, one per slide length: 2^62 of them is beyond any real run, and the
  // bound keeps slide_ + kept_ and the slot loop below from wrapping round.
  if (slide_ > max_slide) return fail("its slide number " + std::to_string(slide_) + " is out of range");
  next_seq_ = static_cast<std::uint32_t>(next_seq);
  for (std::uint64_t k = 0; k < live; ++k) {
    std::string_view key, display;
    std::uint64_t seq = 0;
    if (!in.text(key) || !in.text(display) || !in.u64(seq) || key.empty() ||
        arena_.size() + key.size() + display.size() > 0xFFFFFFFFu)
      return fail("a tag is malformed");
    const id_t id = static_cast<id_t>(key_off_.size());
    grow_tags();
    key_off_[id] = static_cast<std::uint32_t>(arena_.size());
    key_len_[id] = static_cast<std::uint32_t>(key.size());
    disp_len_[id] = static_cast<std::uint32_t>(display.size());
    arena_.append(key);
    arena_.append(display);
    if (seq >= UINT32_MAX) return fail("a tag's first-seen number is out of range");
    seq_[id] = static_cast<std::uint32_t>(seq);
  }
  live_ = static_cast<std::size_t>(live);
  const std::uint64_t first = slide_ + 1 >= kept_ ? slide_ + 1 - kept_ : 0;
  const std::size_t w = options_.slots;
  for (std::uint64_t k = first; k <= slide_; ++k) {
    std::uint64_t n = 0;
    if (!in.varint(n) || n > in.left()) return fail("a slot is malformed");
    auto& slot = slots_[k % kept_];
    for (std::uint64_t j = 0; j < n; ++j) {
      std::uint64_t tag = 0, count = 0;
      if (!in.varint(tag) || !in.varint(count) || tag >= live || count == 0 || count > UINT32_MAX)
        return fail("a slot is malformed");
      const auto id = static_cast<id_t>(tag);
      if (k + w > slide_) in_window_[id] += static_cast<std::int64_t>(count);
      else before_[id] += static_cast<std::int64_t>(count);
      if (k == slide_) {  // as add() keeps it: the place of the tag's pair in the current slot
        flags_[id] |= current_bit;
        pair_at_[id] = static_cast<std::uint32_t>(slot.size());
      }
      slot.push_back(pair{id, static_cast<std::uint32_t>(count)});
    }
  }
  // The table, the scores, the top N and the tree, all from scratch.
  table_.reset(live_);
  for (id_t id = 0; id < key_off_.size(); ++id) {
    table_.add(tag_table::hash(key_of(id)), id);
    if (want_trend) score_[id] = score_of(id);
  }
  rank_from_scratch();
  return true;
}

void windowed_counter::rank_from_scratch() {
  top_.clear();
  std::vector<id_t> ranked;
  for (id_t id = 0; id < key_off_.size(); ++id) {
    rank_[id] = none;
    if (key_len_[id] > 0 && score(id) > 0) ranked.push_back(id);
  }
  const std::size_t n = std::min(options_.top, ranked.size());
  std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(n), ranked.end(),
                    [this](id_t a, id_t b) { return ahead(a, b); });
  for (std::size_t k = 0; k < n; ++k) {
    top_.push_back(make_entry(ranked[k]));
    rank_[ranked[k]] = static_cast<std::uint32_t>(k);
  }
  record_ = record_cache();
  grow_tree();
}

std::vector<origin> windowed_counter::top_origins() const {
  std::vector<origin> out;
  for (const auto& e : top_) out.push_back(options_.by_origin ? origin_[e.id] : origin{});
  return out;
}

void windowed_counter::save_origins(bytes_out& out) const {
  out.varint(live_);
  for (id_t id = 0; id < key_off_.size(); ++id) {  // the order save() writes the tags in
    if (key_len_[id] == 0) continue;
    out.u64(origin_[id].hi);
    out.u64(origin_[id].lo);
  }
}

bool windowed_counter::restore_origins(bytes_in& in) {
  std::uint64_t n = 0;
  if (!options_.by_origin || !in.varint(n) || n != live_ || n != key_off_.size()) return false;
  for (id_t id = 0; id < n; ++id)
    if (!in.u64(origin_[id].hi) || !in.u64(origin_[id].lo)) return false;
  rank_from_scratch();
  return true;
}

std::size_t windowed_counter::pairs() const noexcept {
  std::size_t n = 0;
  for (const auto& s : slots_) n += s.size();
  return n;
}

std::size_t windowed_counter::memory_bytes() const noexcept {
  std::size_t slots = 0;
  for (const auto& slot : slots_) slots += slot.capacity() * sizeof(pair);
  return bytes_per_tag() * live_ + slots;
}

std::size_t windowed_counter::bytes_per_tag() const noexcept {
  if (live_ == 0) return 0;
  const std::size_t bytes =
      table_.memory_bytes() +
      (key_off_.capacity() + key_len_.capacity() + disp_len_.capacity()) * sizeof(std::uint32_t) +
      (in_window_.capacity() + before_.capacity() + score_.capacity()) * sizeof(std::int64_t) +
      (seq_.capacity() + pair_at_.capacity() + rank_.capacity()) * sizeof(std::uint32_t) + flags_.capacity() +
      origin_.capacity() * sizeof(origin) +
      tree_.capacity() * sizeof(id_t);
  return bytes / live_;
}

}  // namespace engine
