#include "wire/utf8.hpp"

#include <cstring>

namespace wire::utf8 {

namespace {
inline unsigned char at(std::string_view s, std::size_t i) { return static_cast<unsigned char>(s[i]); }
inline bool cont(unsigned char c) { return (c & 0xC0) == 0x80; }
}  // namespace

std::size_t invalid_at(std::string_view s) noexcept {
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n) {
    // Tweets are mostly ASCII: skip 8 bytes at a time while no high bit is set.
    while (i + 8 <= n) {
      std::uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      if (w & 0x8080808080808080ULL) break;
      i += 8;
    }
    if (i >= n) break;
    const unsigned char c = at(s, i);
    if (c < 0x80) {
      ++i;
    } else if (c >= 0xC2 && c <= 0xDF) {
      if (i + 1 >= n || !cont(at(s, i + 1))) return i;
      i += 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      if (i + 2 >= n) return i;
      const unsigned char c1 = at(s, i + 1);
      if (!cont(c1) || !cont(at(s, i + 2))) return i;
      if (c == 0xE0 && c1 < 0xA0) return i;  // overlong
      if (c == 0xED && c1 >= 0xA0) return i;  // surrogate
      i += 3;
    } else if (c >= 0xF0 && c <= 0xF4) {
      if (i + 3 >= n) return i;
      const unsigned char c1 = at(s, i + 1);
      if (!cont(c1) || !cont(at(s, i + 2)) || !cont(at(s, i + 3))) return i;
      if (c == 0xF0 && c1 < 0x90) return i;  // overlong
      if (c == 0xF4 && c1 >= 0x90) return i;  // above U+10FFFF
      i += 4;
    } else {
      return i;
    }
  }
  return std::string_view::npos;
}

void append(char32_t cp, std::string& out) {
  auto put = [&out](unsigned v) { out.push_back(static_cast<char>(v)); };
  if (cp < 0x80) {
    put(cp);
  } else if (cp < 0x800) {
    put(0xC0 | (cp >> 6));
    put(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    put(0xE0 | (cp >> 12));
    put(0x80 | ((cp >> 6) & 0x3F));
    put(0x80 | (cp & 0x3F));
  } else {
    put(0xF0 | (cp >> 18));
    put(0x80 | ((cp >> 12) & 0x3F));
    put(0x80 | ((cp >> 6) & 0x3F));
    put(0x80 | (cp & 0x3F));
  }
}

char32_t next(std::string_view s, std::size_t& i) noexcept {
  const unsigned char c = at(s, i);
  if (c < 0x80) {
    ++i;
    return c;
  }
  int extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : 1;
  char32_t cp = c & (0x3F >> extra);
  ++i;
  for (int k = 0; k < extra && i < s.size(); ++k, ++i) cp = (cp << 6) | (at(s, i) & 0x3F);
  return cp;
}

}  // namespace wire::utf8
