#include "engine/top_counter.hpp"

#include <charconv>
#include <cstring>
#include <stdexcept>
#include <utility>

#include "wire/pylit.hpp"

namespace engine {

namespace {

// A fast mix for short strings (hashtags are mostly under 24 bytes).
std::uint64_t hash_bytes(std::string_view s) noexcept {
  const char* p = s.data();
  std::size_t n = s.size();
  std::uint64_t h = 0x9E3779B97F4A7C15ULL ^ (n * 0xff51afd7ed558ccdULL);
  while (n >= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 31;
    p += 8;
    n -= 8;
  }
  std::uint64_t w = 0;
  std::memcpy(&w, p, n);
  h = (h ^ w) * 0x94d049bb133111ebULL;
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 32;
  return h;
}

// repr(tag) as it appears inside the label's outer repr: backslashes doubled, and with ' quotes
// the quote escaped. Nothing else needs escaping: repr's output is printable or escaped already.
std::string escape_for_label(std::string_view inner, char quote) {
  std::string out;
  out.reserve(inner.size() + 4);
  for (const char c : inner) {
    if (c == '\\' || c == quote) out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

}  // namespace

top_counter::top_counter(std::size_t n) : n_(n == 0 ? 1 : n) {
  slots_.assign(1 << 12, 0);
  mask_ = slots_.size() - 1;
  top_.reserve(n_);
}

top_counter::id_t top_counter::intern(std::string_view tag) {
  const auto h32 = static_cast<std::uint32_t>(hash_bytes(tag) >> 32);
  std::size_t pos = h32 & mask_;
  while (true) {
    const std::uint64_t slot = slots_[pos];
    if (slot == 0) break;
    if (static_cast<std::uint32_t>(slot >> 32) == h32) {
      const auto id = static_cast<id_t>((slot & 0xFFFFFFFFu) - 1);
      if (length_[id] == tag.size() && std::memcmp(arena_.data() + offset_[id], tag.data(), tag.size()) == 0)
        return id;
    }
    pos = (pos + 1) & mask_;
  }
  // A new hashtag: its id is its first-seen rank.
  if (counts_.size() >= 0xFFFFFFF0u || arena_.size() + tag.size() > 0xFFFFFFFFu)
    throw std::length_error("hashtag state is full (4 billion distinct hashtags or 4 GiB of text)");
  const auto id = static_cast<id_t>(counts_.size());
  offset_.push_back(static_cast<std::uint32_t>(arena_.size()));
  length_.push_back(static_cast<std::uint32_t>(tag.size()));
  arena_.append(tag);
  counts_.push_back(0);
  rank_.push_back(not_ranked);
  slots_[pos] = (std::uint64_t{h32} << 32) | (std::uint64_t{id} + 1);
  if (counts_.size() * 2 > slots_.size()) {  // keep the load under 1/2: grow and re-place
    std::vector<std::uint64_t> old(slots_.size() * 2, 0);
    old.swap(slots_);
    mask_ = slots_.size() - 1;
    for (const std::uint64_t slot : old) {
      if (slot == 0) continue;
      std::size_t p = static_cast<std::uint32_t>(slot >> 32) & mask_;
      while (slots_[p] != 0) p = (p + 1) & mask_;
      slots_[p] = slot;
    }
  }
  return id;
}

top_counter::entry top_counter::make_entry(id_t id) const {
  const std::string inner = wire::pylit::repr(std::string_view(arena_).substr(offset_[id], length_[id]));
  return entry{id, escape_for_label(inner, '"'), escape_for_label(inner, '\''),
               inner.find('"') != std::string::npos};
}

void top_counter::rise(std::size_t pos) {
  while (pos > 0 && ahead(top_[pos].id, top_[pos - 1].id)) {
    std::swap(top_[pos], top_[pos - 1]);
    rank_[top_[pos].id] = static_cast<std::uint32_t>(pos);
    rank_[top_[pos - 1].id] = static_cast<std::uint32_t>(pos - 1);
    label_dirty_ = true;
    --pos;
  }
}

void top_counter::add(std::string_view tag) {
  const id_t id = intern(tag);
  ++counts_[id];
  ++events_;
  if (rank_[id] != not_ranked) {
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
  label_dirty_ = true;
  rise(top_.size() - 1);
}

void top_counter::rebuild_label() {
  // Python picks ' for the label unless it has ' and no ". It always has ' (every item is quoted
  // and an item in " quotes holds a '), so the label takes " unless some item shows a ".
  bool any_dq = false;
  for (const auto& e : top_) any_dq = any_dq || e.has_dq;
  const char quote = any_dq ? '\'' : '"';
  label_.clear();
  label_.push_back(quote);
  label_.push_back('[');
  for (std::size_t k = 0; k < top_.size(); ++k) {
    if (k) label_ += ", ";
    label_ += any_dq ? top_[k].frag_sq : top_[k].frag_dq;
  }
  label_.push_back(']');
  label_.push_back(quote);
  label_dirty_ = false;
}

void top_counter::append_record(std::string& out) {
  if (label_dirty_) rebuild_label();
  out += "{'label': ";
  out += label_;
  out += ", 'data': '[";
  char digits[24];
  for (std::size_t k = 0; k < top_.size(); ++k) {
    if (k) out += ", ";
    const auto r = std::to_chars(digits, digits + sizeof digits, counts_[top_[k].id]);
    out.append(digits, r.ptr);
  }
  out += "]'};;\n";
}

wire::record::top_list top_counter::top() const {
  wire::record::top_list t;
  for (const auto& e : top_) {
    t.labels.emplace_back(std::string_view(arena_).substr(offset_[e.id], length_[e.id]));
    t.counts.push_back(counts_[e.id]);
  }
  return t;
}

}  // namespace engine
