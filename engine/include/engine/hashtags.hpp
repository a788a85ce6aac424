#pragma once
// The original HashtagFinder: [word.strip() for word in text.split() if word[0] == '#'].
// Python's str.split() splits on str.isspace() characters; strip() then has nothing left to
// remove. So a hashtag is any white-space-delimited token starting with '#': "#", "#foo,",
// "#a#b" and "#café" all count, case-sensitively, punctuation kept.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace engine {

/// For each first byte: 0 it starts no white space, 1 it is one (ASCII), 2 it may start a
/// multi-byte one. One load per byte on the hot path.
inline constexpr std::array<std::uint8_t, 256> space_class = [] {
  std::array<std::uint8_t, 256> t{};
  for (unsigned c = 0x09; c <= 0x0D; ++c) t[c] = 1;
  for (unsigned c = 0x1C; c <= 0x1F; ++c) t[c] = 1;
  t[' '] = 1;
  t[0xC2] = t[0xE1] = t[0xE2] = t[0xE3] = 2;
  return t;
}();

/// Length of the Python white-space character starting at s[i] (valid UTF-8), or 0 if none.
/// The set: \t \n \v \f \r, \x1c-\x1f, space, \x85, \xa0, \u1680, \u2000-\u200a, \u2028,
/// \u2029, \u202f, \u205f, \u3000.
inline std::size_t space_length(std::string_view s, std::size_t i) noexcept {
  const auto c = static_cast<unsigned char>(s[i]);
  const std::uint8_t kind = space_class[c];
  if (kind < 2) return kind;
  auto at = [&](std::size_t k) { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u; };
  switch (c) {
    case 0xC2:  // U+0085, U+00A0
      return (at(1) == 0x85 || at(1) == 0xA0) ? 2 : 0;
    case 0xE1:  // U+1680
      return (at(1) == 0x9A && at(2) == 0x80) ? 3 : 0;
    case 0xE2:
      if (at(1) == 0x80) {
        const unsigned c2 = at(2);  // U+2000-U+200A, U+2028, U+2029, U+202F
        return (c2 <= 0x8A || c2 == 0xA8 || c2 == 0xA9 || c2 == 0xAF) && c2 >= 0x80 ? 3 : 0;
      }
      return (at(1) == 0x81 && at(2) == 0x9F) ? 3 : 0;  // U+205F
    default:  // 0xE3: U+3000
      return (at(1) == 0x80 && at(2) == 0x80) ? 3 : 0;
  }
}

/// The hashtags of `text` (valid UTF-8) one at a time, so that a caller can stop between two of
/// them (the engine waits for room in its output there: one tweet may hold 30,000 hashtags).
class hashtag_cursor {
public:
  explicit hashtag_cursor(std::string_view text) noexcept : text_(text) {}

  /// The next hashtag, or an empty view when there is none left (a hashtag is never empty).
  [[gnu::always_inline]] std::string_view next() noexcept {
    const std::size_t n = text_.size();
    std::size_t i = at_;
    while (i < n) {
      // Skip white space, then take the token up to the next white space.
      while (i < n) {
        const std::uint8_t kind = space_class[static_cast<unsigned char>(text_[i])];
        if (kind == 0) break;
        const std::size_t sp = kind == 1 ? 1 : space_length(text_, i);
        if (sp == 0) break;
        i += sp;
      }
      if (i >= n) break;
      const std::size_t start = i;
      const bool tag = text_[i] == '#';
      ++i;
      while (i < n) {
        const std::uint8_t kind = space_class[static_cast<unsigned char>(text_[i])];
        if (kind == 1 || (kind == 2 && space_length(text_, i) != 0)) break;
        ++i;
      }
      if (tag) {  // '#' inside a word does not start a tag
        at_ = i;
        return text_.substr(start, i - start);
      }
    }
    at_ = n;
    return {};
  }

private:
  std::string_view text_;
  std::size_t at_ = 0;
};

/// Calls on_tag(token) for each hashtag of `text` (valid UTF-8), in order.
template <class OnTag>
void for_each_hashtag(std::string_view text, OnTag&& on_tag) {
  hashtag_cursor tags(text);
  for (std::string_view tag = tags.next(); !tag.empty(); tag = tags.next()) on_tag(tag);
}

}  // namespace engine
