#include "engine/top_counter.hpp"


#include <algorithm>
#include <charconv>
#include <cstring>
#include <stdexcept>
#include <utility>


namespace engine {

top_counter::top_counter(std::size_t n, bool by_origin) : n_(n == 0 ? 1 : n), by_origin_(by_origin), table_(1, 2) {
  top_.reserve(n_);
}

top_counter::id_t top_counter::intern(std::string_view tag, std::string_view display) {
  const auto f = table_.find(tag, [&](id_t id) {
    return length_[id] == tag.size() && std::memcmp(arena_.data() + offset_[id], tag.data(), tag.size()) == 0;
  });
  if (f.hit) return f.id;
  // A new hashtag: its id is its first-seen rank.
  const std::size_t extra = display == tag ? 0 : display.size();
  if (counts_.size() >= 0xFFFFFFF0u || arena_.size() + tag.size() + extra > 0xFFFFFFFFu)
    throw std::length_error("hashtag state is full (4 billion distinct hashtags or 4 GiB of text)");
  const auto id = static_cast<id_t>(counts_.size());
  offset_.push_back(static_cast<std::uint32_t>(arena_.size()));
  length_.push_back(static_cast<std::uint32_t>(tag.size()));
  display_.push_back(static_cast<std::uint32_t>(extra));
  arena_.append(tag);
  if (extra) arena_.append(display);
  counts_.push_back(0);
  rank_.push_back(not_ranked);
  table_.insert(f, id, counts_.size());  // grows past half full
  return id;
}

top_counter::entry top_counter::make_entry(id_t id) const {
  entry e{id, {make_fragment(display_of(id))}};
  e.text.set_number(counts_[id]);
  return e;
}

void top_counter::rise(std::size_t pos) {
  rise_in_top(top_, rank_, record_, pos, [this](id_t a, id_t b) { return ahead(a, b); });
}

void top_counter::add(std::string_view key, std::string_view display) { bump(intern(key, display)); }

void top_counter::add(std::string_view key, std::string_view display, origin at) {
  const id_t id = intern(key, display);
  if (id == origin_.size()) origin_.push_back(at);
  else if (at < origin_[id]) origin_[id] = at;  // only ever ranks the key higher, as its count does
  bump(id);
}

void top_counter::bump(id_t id) {
  ++counts_[id];
  ++events_;
  if (rank_[id] != not_ranked) {
    changed_ = true;  // a count on show went up
    top_[rank_[id]].text.set_number(counts_[id]);
    record_.numbers_changed();
    rise(rank_[id]);
    return;
  }
  // Only this tag's count changed, so the new top N is the top N of the old top N plus it.
  if (top_.size() < n_) {
    top_.push_back(make_entry(id));
  } else if (ahead(id, top_.back().id)) {
    rank_[top_.back().id] = not_ranked;
    top_.back() = make_entry(id);
  } else {
    return;
  }
  rank_[id] = static_cast<std::uint32_t>(top_.size() - 1);
  record_.ranking_changed();
  changed_ = true;
  rise(top_.size() - 1);
}

void top_counter::append_record(std::string& out) {
  record_.append(top_.size(), [this](std::size_t k) -> const ranked_text& { return top_[k].text; }, out);
}

void top_counter::save(bytes_out& out) const {
  out.u64(events_);
  out.varint(counts_.size());
  for (id_t id = 0; id < counts_.size(); ++id) {
    out.text(std::string_view(arena_).substr(offset_[id], length_[id]));
    out.text(display_[id] ? display_of(id) : std::string_view{});
    out.varint(static_cast<std::uint64_t>(counts_[id]));
  }
}

bool top_counter::restore(bytes_in& in) {
  *this = top_counter(n_, by_origin_);
  std::uint64_t events = 0, n = 0;
  if (!in.u64(events) || !in.varint(n) || n > 0xFFFFFFF0u) return false;
  for (std::uint64_t k = 0; k < n; ++k) {
    std::string_view key, display;
    std::uint64_t count = 0;
    if (!in.text(key) || !in.text(display) || !in.varint(count) || key.empty() || count == 0 ||
        count > static_cast<std::uint64_t>(INT64_MAX) || arena_.size() + key.size() + display.size() > 0xFFFFFFFFu) {
      *this = top_counter(n_, by_origin_);
      return false;
    }
    offset_.push_back(static_cast<std::uint32_t>(arena_.size()));
    length_.push_back(static_cast<std::uint32_t>(key.size()));
    display_.push_back(static_cast<std::uint32_t>(display.size()));
    arena_.append(key);
    arena_.append(display);
    counts_.push_back(static_cast<std::int64_t>(count));
    rank_.push_back(not_ranked);
  }
  events_ = events;
  rebuild_table_and_top();
  return true;
}

std::vector<origin> top_counter::top_origins() const {
  std::vector<origin> out;
  for (const auto& e : top_) out.push_back(by_origin_ && e.id < origin_.size() ? origin_[e.id] : origin{});
  return out;
}

void top_counter::save_origins(bytes_out& out) const {
  out.varint(origin_.size());
  for (const origin& o : origin_) {
    out.u64(o.hi);
    out.u64(o.lo);
  }
}

bool top_counter::restore_origins(bytes_in& in) {
  std::uint64_t n = 0;
  if (!by_origin_ || !in.varint(n) || n != counts_.size()) return false;
  origin_.assign(n, origin{});
  for (auto& o : origin_)
    if (!in.u64(o.hi) || !in.u64(o.lo)) return false;
  std::fill(rank_.begin(), rank_.end(), not_ranked);
  rebuild_table_and_top();
  return true;
}

void top_counter::rebuild_table_and_top() {
  table_.reset(counts_.size());
  for (id_t id = 0; id < counts_.size(); ++id)
    table_.add(tag_table::hash(std::string_view(arena_).substr(offset_[id], length_[id])), id);
  // The top N of all tags: the N best by count, ties by first seen, in rank order.
  std::vector<id_t> ids(counts_.size());
  for (id_t id = 0; id < ids.size(); ++id) ids[id] = id;
  const std::size_t n = std::min(n_, ids.size());
  std::partial_sort(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(n), ids.end(),
                    [this](id_t a, id_t b) { return ahead(a, b); });
  top_.clear();
  for (std::size_t k = 0; k < n; ++k) {
    top_.push_back(make_entry(ids[k]));
    rank_[ids[k]] = static_cast<std::uint32_t>(k);
  }
  record_ = record_cache();
  changed_ = false;
}

std::size_t top_counter::memory_bytes() const noexcept {
  return table_.memory_bytes() +
         (offset_.capacity() + length_.capacity() + display_.capacity() + rank_.capacity()) * sizeof(std::uint32_t) +
         counts_.capacity() * sizeof(std::int64_t) + top_.capacity() * sizeof(entry) +
         origin_.capacity() * sizeof(origin);
}

wire::record::top_list top_counter::top() const {
  wire::record::top_list t;
  for (const auto& e : top_) {
    t.labels.emplace_back(display_of(e.id));
    t.counts.push_back(counts_[e.id]);
  }
  return t;
}

}  // namespace engine
