#pragma once
// The text of a top-N record, built the way the original Python 3 engine writes it
//   str({'label': str(top_tags), 'data': str(numbers)}) + ";;\n"
// but from pieces cached per ranked tag, so that a record costs a few copies: each tag's repr
// is escaped once, when it enters the top N, and the label only when membership or order changes.
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace engine {

/// repr(tag) as it appears inside the label's own repr, for either quote the label may take.
struct label_fragment {
  std::string dq;       ///< for a label quoted with "
  std::string sq;       ///< for a label quoted with '
  bool has_dq = false;  ///< repr(tag) contains '"', which forces the label into ' quotes
};

/// The fragment of one tag (valid UTF-8).
label_fragment make_fragment(std::string_view tag);

/// Builds the label text (its outer quotes included) from the ranked tags' fragments, in rank
/// order; `fragment_at(k)` returns the k-th one. An empty list gives '[]', as Python writes it.
template <class FragmentAt>
void build_label(std::size_t n, FragmentAt&& fragment_at, std::string& label) {
  // Python picks ' for the label unless it has ' and no ". A non-empty list always has ' (every
  // item is quoted and an item in " quotes holds a '), so it takes " unless some item shows a ".
  bool any_dq = n == 0;
  for (std::size_t k = 0; k < n && !any_dq; ++k) any_dq = fragment_at(k).has_dq;
  const char quote = any_dq ? '\'' : '"';
  label.clear();
  label.push_back(quote);
  label.push_back('[');
  for (std::size_t k = 0; k < n; ++k) {
    if (k) label += ", ";
    const label_fragment& f = fragment_at(k);
    label += any_dq ? f.sq : f.dq;
  }
  label.push_back(']');
  label.push_back(quote);
}

/// What a ranked tag contributes to a record: its label fragment and its number's digits.
struct ranked_text {
  label_fragment text;
  char digits[20] = {};
  std::uint8_t ndigits = 0;

  /// Formats the number shown for this tag (its count or score).
  void set_number(std::int64_t n) noexcept {
    const auto r = std::to_chars(digits, digits + sizeof digits, n);
    ndigits = static_cast<std::uint8_t>(r.ptr - digits);
  }
};

/// The current record, rebuilt only when the top N changed (most events change nothing on show,
/// with Zipf-like tags two in three, and then a record is one copy), and then from cached pieces:
/// the head "{'label': <label>, 'data': '[" when the ranking changed, the digits otherwise.
class record_cache {
public:
  /// Membership or order changed.
  void ranking_changed() noexcept { label_dirty_ = record_dirty_ = true; }
  /// A number on show changed (its digits are already updated).
  void numbers_changed() noexcept { record_dirty_ = true; }

  /// Appends the record of `n` ranked tags, `at(k)` giving the k-th one's ranked_text.
  template <class At>
  void append(std::size_t n, At&& at, std::string& out) {
    if (record_dirty_) {
      if (label_dirty_) {
        build_label(n, [&](std::size_t k) -> const label_fragment& { return at(k).text; }, label_);
        head_.assign("{'label': ");
        head_ += label_;
        head_ += ", 'data': '[";
        label_dirty_ = false;
      }
      record_.assign(head_);
      for (std::size_t k = 0; k < n; ++k) {
        if (k) record_.append(", ", 2);
        const ranked_text& r = at(k);
        record_.append(r.digits, r.ndigits);
      }
      record_.append("]'};;\n", 6);
      record_dirty_ = false;
    }
    out += record_;
  }

private:
  std::string label_, head_, record_;
  bool label_dirty_ = true;
  bool record_dirty_ = true;
};

/// Moves the entry at `pos` of a ranked top N (entries with an `id`) up past every entry it ranks
/// ahead of (`ahead(a, b)` on ids), keeping `rank[id]` (each entry's position) and `record` up to
/// date. True when it moved.
template <class Entry, class Ahead>
bool rise_in_top(std::vector<Entry>& top, std::vector<std::uint32_t>& rank, record_cache& record, std::size_t pos,
                 Ahead&& ahead) {
  const std::size_t from = pos;
  while (pos > 0 && ahead(top[pos].id, top[pos - 1].id)) {
    std::swap(top[pos], top[pos - 1]);
    rank[top[pos].id] = static_cast<std::uint32_t>(pos);
    rank[top[pos - 1].id] = static_cast<std::uint32_t>(pos - 1);
    --pos;
  }
  if (pos == from) return false;
  record.ranking_changed();
  return true;
}

}  // namespace engine
