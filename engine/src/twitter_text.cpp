#include "engine/twitter_text.hpp"

#include <utf8proc.h>

#include <array>
#include <cstddef>
#include <cstdint>

// Written from the definitions of twitter-text 3.1.0, the JavaScript library as published
// (regexp/*.js, extractHashtagsWithIndices.js, extractUrlsWithIndices.js,
// removeOverlappingEntities.js, lib/idna.js), without a regex engine: one forward pass for hash
// marks and, only when a hash mark that follows no white space qualifies and the text holds a
// '.', one forward pass for URLs that reproduces the leftmost-first matches of its URL regex in
// linear time. Where its Ruby and Java versions differ, the JavaScript one is followed.

namespace engine {

namespace {

constexpr std::size_t npos = std::string_view::npos;

struct code_point {
  char32_t value;
  std::size_t size;
};

// The code point at s[i] (i < s.size()). Valid UTF-8 is the precondition; a malformed byte
// reads as U+FFFD of one byte, so nothing past the end is ever read.
inline code_point decode(std::string_view s, std::size_t i) noexcept {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return {b0, 1};
  const std::size_t left = s.size() - i;
  auto cont = [&](std::size_t k) -> char32_t { return static_cast<unsigned char>(s[i + k]) ^ 0x80u; };
  if (b0 >= 0xC2 && b0 <= 0xDF && left >= 2 && cont(1) < 0x40) return {((b0 & 0x1Fu) << 6) | cont(1), 2};
  if (b0 >= 0xE0 && b0 <= 0xEF && left >= 3 && cont(1) < 0x40 && cont(2) < 0x40) {
    const char32_t c = ((b0 & 0x0Fu) << 12) | (cont(1) << 6) | cont(2);
    if (c >= 0x800) return {c, 3};
  }
  if (b0 >= 0xF0 && b0 <= 0xF4 && left >= 4 && cont(1) < 0x40 && cont(2) < 0x40 && cont(3) < 0x40) {
    const char32_t c = ((b0 & 0x07u) << 18) | (cont(1) << 12) | (cont(2) << 6) | cont(3);
    if (c >= 0x10000 && c <= 0x10FFFF) return {c, 4};
  }
  return {0xFFFD, 1};
}

// The code point that ends just before s[i] (0 < i <= s.size()).
inline char32_t decode_before(std::string_view s, std::size_t i) noexcept {
  std::size_t j = i - 1;
  const std::size_t stop = i >= 4 ? i - 4 : 0;
  while (j > stop && (static_cast<unsigned char>(s[j]) & 0xC0) == 0x80) --j;
  const code_point c = decode(s, j);
  return j + c.size == i ? c.value : char32_t{0xFFFD};
}

// ASCII classes, one table so that the common case costs one load.
enum : std::uint16_t {
  k_tag = 1 << 0,         // may be inside a hashtag: letters, digits, '_'
  k_letter = 1 << 1,      // counts as the letter a hashtag needs
  k_punct = 1 << 2,       // twitter-text's punctuation: never inside a domain label
  k_space = 1 << 3,       // white space: never inside a domain label
  k_not_before = 1 << 4,  // may not precede a URL: letters, digits, '@', '$', '#'
  k_path = 1 << 5,        // URL path character
  k_path_end = 1 << 6,    // URL path may end with it
  k_query = 1 << 7,       // URL query character
  k_query_end = 1 << 8,   // URL query may end with it
  k_alnum = 1 << 9,
  k_alpha = 1 << 10,
};

constexpr std::array<std::uint16_t, 128> ascii_classes = [] {
  std::array<std::uint16_t, 128> t{};
  auto add = [&](const char* chars, std::uint16_t bits) {
    for (; *chars; ++chars) t[static_cast<unsigned char>(*chars)] |= bits;
  };
  for (int c = 0; c < 128; ++c) {
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    const bool digit = c >= '0' && c <= '9';
    if (alpha) t[c] |= k_tag | k_letter | k_alpha;
    if (digit) t[c] |= k_tag;
    if (alpha || digit) t[c] |= k_alnum | k_not_before | k_path | k_path_end | k_query | k_query_end;
    if (c >= 0x09 && c <= 0x0D) t[c] |= k_space;
  }
  t['_'] |= k_tag;
  t[' '] |= k_space;
  add("!'#%&()*+,\\-./:;<=>?@[]^_{|}~$", k_punct);  // JS twitter-text's set: no '"', no '`'
  add("@$#", k_not_before);
  add("!*';:=+,.$/%#[]-_~@|&", k_path);
  add("+-=_#/", k_path_end);
  add("!?*'@();:&=+$/%#[]-_.,~|", k_query);
  add("-_&=#/", k_query_end);
  return t;
}();

inline std::uint16_t ascii_class(char32_t c) noexcept { return ascii_classes[c]; }
inline bool is_ascii_alnum(char c) noexcept {
  return static_cast<unsigned char>(c) < 0x80 && (ascii_classes[static_cast<unsigned char>(c)] & k_alnum);
}
inline bool is_ascii_alpha(char c) noexcept {
  return static_cast<unsigned char>(c) < 0x80 && (ascii_classes[static_cast<unsigned char>(c)] & k_alpha);
}
inline bool is_ascii_digit(char c) noexcept { return c >= '0' && c <= '9'; }
inline char ascii_lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

// Hashtag classes of a code point: k_tag (may be inside), k_letter (a letter or a mark).
inline unsigned tag_class(char32_t c) noexcept {
  if (c < 0x80) return ascii_class(c) & (k_tag | k_letter);
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(c))) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
      return k_tag | k_letter;
    case UTF8PROC_CATEGORY_ND:
      return k_tag;
    default:
      break;
  }
  switch (c) {  // twitter-text's joiners
    case 0x200C: case 0x200D: case 0xA67E: case 0x05BE: case 0x05F3: case 0x05F4: case 0xFF5E:
    case 0x301C: case 0x309B: case 0x309C: case 0x30A0: case 0x30FB: case 0x3003: case 0x0F0B:
    case 0x0F0C: case 0x00B7:
      return k_tag;
    default:
      return 0;
  }
}

// Length of the hash mark at s[i]: 1 for '#', 3 for U+FF03 (EF BC 83), 0 for none.
inline std::size_t hash_mark(std::string_view s, std::size_t i) noexcept {
  if (i >= s.size()) return 0;
  if (s[i] == '#') return 1;
  return (s[i] == '\xEF' && s.size() - i >= 3 && s[i + 1] == '\xBC' && s[i + 2] == '\x83') ? 3 : 0;
}

// ---- URL character classes (twitter-text's JS sets) ----

inline bool is_unicode_space(char32_t c) noexcept {
  return c == 0x85 || c == 0xA0 || c == 0x1680 || c == 0x180E || (c >= 0x2000 && c <= 0x200A) ||
         c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}
inline bool is_invalid_char(char32_t c) noexcept { return c == 0xFFFE || c == 0xFEFF || c == 0xFFFF; }
inline bool is_directional_mark(char32_t c) noexcept {
  return (c >= 0x202A && c <= 0x202E) || c == 0x061C || c == 0x200E || c == 0x200F || (c >= 0x2066 && c <= 0x2069);
}
// May be inside a domain label (besides '-' and '_', which may not start or end one).
inline bool is_domain_char(char32_t c) noexcept {
  if (c < 0x80) return !(ascii_class(c) & (k_punct | k_space));
  return !is_unicode_space(c) && !is_invalid_char(c) && !is_directional_mark(c);
}
inline bool is_label_char(char32_t c) noexcept { return c == '_' || c == '-' || is_domain_char(c); }
inline bool may_precede_url(char32_t c) noexcept {
  if (c < 0x80) return !(ascii_class(c) & k_not_before);
  return c != 0xFF20 && c != 0xFF03 && !is_invalid_char(c);
}
inline bool is_latin_accent(char32_t c) noexcept {
  if (c < 0xC0) return false;
  if (c <= 0x24F) return c != 0xD7 && c != 0xF7;
  switch (c) {
    case 0x253: case 0x254: case 0x256: case 0x257: case 0x259: case 0x25B: case 0x263: case 0x268:
    case 0x26F: case 0x272: case 0x289: case 0x28B: case 0x2BB:
      return true;
    default:
      return (c >= 0x300 && c <= 0x36F) || (c >= 0x1E00 && c <= 0x1EFF);
  }
}
inline bool is_cyrillic(char32_t c) noexcept { return c >= 0x400 && c <= 0x4FF; }
// The URL regexes ignore case (JavaScript's /i without /u): a character also matches when its
// uppercase form is that of a member (U+0280 matches through U+01A6; U+0399 and its lowercase
// forms through U+0345, a member whose uppercase is U+0399). No non-ASCII character matches an
// ASCII one this way.
inline bool is_latin_accent_ci(char32_t c) noexcept {
  if (is_latin_accent(c)) return true;
  const auto u = static_cast<char32_t>(utf8proc_toupper(static_cast<utf8proc_int32_t>(c)));
  return u >= 0x80 && (is_latin_accent(u) || u == 0x399);
}
inline bool is_cyrillic_ci(char32_t c) noexcept {
  if (is_cyrillic(c)) return true;
  const auto u = static_cast<char32_t>(utf8proc_toupper(static_cast<utf8proc_int32_t>(c)));
  return u >= 0x80 && u != c && is_cyrillic(u);
}
inline bool is_path_char(char32_t c) noexcept {
  if (c < 0x80) return ascii_class(c) & k_path;
  return c == 0x2013 || is_cyrillic_ci(c) || is_latin_accent_ci(c);
}
inline bool is_path_end(char32_t c) noexcept {
  if (c < 0x80) return ascii_class(c) & k_path_end;
  return is_cyrillic_ci(c) || is_latin_accent_ci(c);
}
inline bool is_ascii_domain_char(char32_t c) noexcept {  // validAsciiDomain's labels
  if (c < 0x80) return (ascii_class(c) & k_alnum) || c == '-';
  return is_latin_accent_ci(c);
}

// The two-letter country-code top-level domains twitter-text knows (data from its TLD list).
constexpr std::array<std::uint32_t, 26> cctld_table = [] {
  std::array<std::uint32_t, 26> t{};
  const char* codes =
      "ac ad ae af ag ai al am an ao aq ar as at au aw ax az ba bb bd be bf bg bh bi bj bl bm bn bo "
      "bq br bs bt bv bw by bz ca cc cd cf cg ch ci ck cl cm cn co cr cu cv cw cx cy cz de dj dk dm "
      "do dz ec ee eg eh er es et eu fi fj fk fm fo fr ga gb gd ge gf gg gh gi gl gm gn gp gq gr gs "
      "gt gu gw gy hk hm hn hr ht hu id ie il im in io iq ir is it je jm jo jp ke kg kh ki km kn kp "
      "kr kw ky kz la lb lc li lk lr ls lt lu lv ly ma mc md me mf mg mh mk ml mm mn mo mp mq mr ms "
      "mt mu mv mw mx my mz na nc ne nf ng ni nl no np nr nu nz om pa pe pf pg ph pk pl pm pn pr ps "
      "pt pw py qa re ro rs ru rw sa sb sc sd se sg sh si sj sk sl sm sn so sr ss st su sv sx sy sz "
      "tc td tf tg th tj tk tl tm tn to tp tr tt tv tw tz ua ug uk um us uy uz va vc ve vg vi vn vu "
      "wf ws ye yt za zm zw";
  for (const char* p = codes; p[0] && p[1]; p += 3) {
    t[static_cast<std::size_t>(p[0] - 'a')] |= std::uint32_t{1} << (p[1] - 'a');
    if (!p[2]) break;
  }
  return t;
}();

inline bool is_cctld(char a, char b) noexcept {
  a = ascii_lower(a);
  b = ascii_lower(b);
  return (cctld_table[static_cast<std::size_t>(a - 'a')] >> (b - 'a')) & 1u;
}

inline bool starts_with_ci(std::string_view s, std::size_t i, std::string_view lower) noexcept {
  if (s.size() - i < lower.size()) return false;
  for (std::size_t k = 0; k < lower.size(); ++k)
    if (ascii_lower(s[i + k]) != lower[k]) return false;
  return true;
}

// Length of punycode's encoding of `cps` (RFC 3492), without the "xn--" prefix.
std::size_t punycode_length(const char32_t* cps, std::size_t len) noexcept {
  constexpr std::uint64_t base = 36, tmin = 1, tmax = 26, skew = 38, damp = 700;
  auto adapt = [&](std::uint64_t delta, std::uint64_t points, bool first) {
    delta = first ? delta / damp : delta / 2;
    delta += delta / points;
    std::uint64_t k = 0;
    while (delta > ((base - tmin) * tmax) / 2) {
      delta /= base - tmin;
      k += base;
    }
    return k + (base - tmin + 1) * delta / (delta + skew);
  };
  std::size_t basic = 0;
  for (std::size_t i = 0; i < len; ++i) basic += cps[i] < 0x80;
  std::size_t out = basic + (basic ? 1 : 0);
  std::uint64_t n = 128, delta = 0, bias = 72;
  for (std::size_t h = basic; h < len;) {
    std::uint64_t m = UINT64_MAX;
    for (std::size_t i = 0; i < len; ++i)
      if (cps[i] >= n && cps[i] < m) m = cps[i];
    delta += (m - n) * (h + 1);
    n = m;
    for (std::size_t i = 0; i < len; ++i) {
      if (cps[i] < n) ++delta;
      if (cps[i] != n) continue;
      std::uint64_t q = delta;
      for (std::uint64_t k = base;; k += base) {
        const std::uint64_t t = k <= bias ? tmin : (k >= bias + tmax ? tmax : k - bias);
        if (q < t) break;
        ++out;
        q = (q - t) / (base - t);
      }
      ++out;
      bias = adapt(delta, h + 1, h == basic);
      delta = 0;
      ++h;
    }
    ++delta;
    ++n;
  }
  return out;
}

// Length of punycode.js's toASCII(label), which also splits at U+3002, U+FF0E and U+FF61;
// anything over 63 is reported as 64. With `low_half`, the label starts with the second UTF-16
// unit of its first code point, alone (see url_scanner::match_at).
std::size_t ascii_label_length(std::string_view label, bool low_half = false) noexcept {
  std::array<char32_t, 64> part{};
  std::size_t total = 0, cps = 0, used = 0;
  bool wide = false;
  auto close_part = [&] {
    total += wide ? 4 + punycode_length(part.data(), used) : used;
    used = 0;
    wide = false;
  };
  for (std::size_t i = 0; i < label.size();) {
    code_point c = decode(label, i);
    if (low_half && i == 0) c.value = 0xDC00 + ((c.value - 0x10000) & 0x3FF);
    i += c.size;
    if (++cps > 63) return 64;  // every code point costs at least one character
    if (c.value == 0x3002 || c.value == 0xFF0E || c.value == 0xFF61) {
      close_part();
      ++total;
      continue;
    }
    part[used++] = c.value;
    wide |= c.value >= 0x80;
  }
  close_part();
  return total > 63 ? 64 : total;
}

struct span {
  std::size_t begin, end;
};

// twitter-text's URL extraction, reduced to what decides hashtags: the URL entities, in text
// order, whose extent can hold a hash mark (URLs with a protocol; protocol-less URLs with a path).
class url_scanner {
public:
  /// Scans `text`; URLs whose match starts at or after `limit` are not looked for.
  url_scanner(std::string_view text, std::size_t limit) noexcept : s_(text), limit_(limit) {}

  /// The next URL entity, or false when there is none before the limit.
  bool next(span& url) noexcept {
    const std::size_t n = s_.size();
    while (pos_ < limit_ && pos_ < n) {
      // Letters, digits, '@', '$' and '#' may not precede a URL: skip them in a tight loop (the
      // start of the text, which may, is tried once).
      if (pos_ > 0) {
        while (pos_ < n && static_cast<unsigned char>(s_[pos_]) < 0x80 &&
               (ascii_classes[static_cast<unsigned char>(s_[pos_])] & k_not_before))
          ++pos_;
        if (pos_ >= limit_ || pos_ >= n) break;
      }
      match m;
      if (!match_at(pos_, m)) {
        pos_ += decode(s_, pos_).size;
        continue;
      }
      pos_ = m.end;  // the regex consumed it, valid or not
      if (!valid_url(m)) continue;
      if (m.protocol == 0) {
        if (m.before == '-' || m.before == '_' || m.before == '.' || m.before == '/') continue;
        // Without a path, only an ASCII domain would be an entity: it holds no hash mark, and
        // no hashtag can start inside it, so it changes nothing.
        if (!m.path) continue;
        std::size_t start = 0;
        if (!last_ascii_domain(m.host, m.host_end, start)) continue;
        url = {start, m.end};
        return true;
      }
      std::size_t end = m.end;
      const std::size_t slug = m.url + m.protocol + 5;  // t.co links end with their slug and query
      if (starts_with_ci(s_, m.url + m.protocol, "t.co/")) {
        std::size_t k = slug;
        while (k < m.end && is_ascii_alnum(s_[k])) ++k;
        if (k > slug) {
          if (k - slug > 40) continue;
          if (k < m.end && s_[k] == '?') {
            const std::size_t q = query_end(k + 1, m.end);
            if (q != npos) k = q;
          }
          end = k;
        }
      }
      url = {m.url, end};
      return true;
    }
    return false;
  }

private:
  struct match {
    std::size_t url = 0;       // where the URL starts (after the preceding character)
    std::size_t protocol = 0;  // length of "http://" or "https://", 0 without
    std::size_t host = 0, host_end = 0;
    std::size_t end = 0;
    bool path = false;
    char32_t before = 0;  // the preceding character, 0 at the start of the text
    bool low_half = false;  // the URL starts inside its first code point (see match_at)
  };

  // The regex's attempt at s: a preceding character (or the start of the text), then the URL.
  // JavaScript's regex sees a code point above U+FFFF as two UTF-16 units: the first one may
  // precede a URL whose domain starts with the second one, alone, which is a domain character.
  bool match_at(std::size_t s, match& m) noexcept {
    const code_point c = decode(s_, s);
    if (c.size == 4) {
      const std::size_t e = domain_end(s);
      if (e != npos) {
        m = match{};
        m.url = m.host = s;
        m.host_end = e;
        m.low_half = true;
        m.before = 0xD800;  // (a unit that may precede a URL without a protocol)
        m.end = after_domain(e, m.path);
        return true;
      }
    }
    if (may_precede_url(c.value) && match_url(s + c.size, m)) {
      m.before = c.value;
      return true;
    }
    if (s == 0 && match_url(0, m)) {
      m.before = 0;
      return true;
    }
    return false;
  }

  bool match_url(std::size_t d, match& m) noexcept {
    const std::size_t n = s_.size();
    std::size_t proto = 0;
    if (d < n && (s_[d] == 'h' || s_[d] == 'H') && starts_with_ci(s_, d, "http")) {
      const std::size_t k = d + 4 + (d + 4 < n && (s_[d + 4] == 's' || s_[d + 4] == 'S'));
      if (s_.substr(k, 3) == "://") proto = k + 3 - d;
    }
    const std::size_t host = d + proto;
    std::size_t e = domain_end(host);
    if (e == npos) return false;  // (without the protocol, "http" would be followed by ':')
    m.url = d;
    m.protocol = proto;
    m.host = host;
    m.host_end = e;
    m.low_half = false;
    m.end = after_domain(e, m.path);
    return true;
  }

  // End of the port, path and query after a domain that ends at e; whether there is a path.
  std::size_t after_domain(std::size_t e, bool& path) const noexcept {
    const std::size_t n = s_.size();
    if (e + 1 < n && s_[e] == ':' && is_ascii_digit(s_[e + 1])) {
      e += 2;
      while (e < n && is_ascii_digit(s_[e])) ++e;
    }
    path = e < n && s_[e] == '/';
    if (path) e = path_end(e + 1);
    if (e < n && s_[e] == '?') {
      const std::size_t q = query_end(e + 1, n);
      if (q != npos) e = q;
    }
    return e;
  }

  // End of the domain starting at p: labels, the last one before the top-level domain without
  // '_', and as many labels as possible (the regex's greedy subdomains); npos if none.
  std::size_t domain_end(std::size_t p) noexcept {
    const std::size_t n = s_.size();
    if (p >= n || !is_domain_char(decode(s_, p).value)) return npos;
    if (!(run_begin_ <= p && p < run_end_)) {  // the label run from p, kept for the next starts
      std::size_t r = p;
      run_underscore_ = npos;
      while (r < n) {
        const code_point c = decode(s_, r);
        if (!is_label_char(c.value)) break;
        if (c.value == '_') run_underscore_ = r;
        r += c.size;
      }
      run_begin_ = p;
      run_end_ = r;
    }
    const std::size_t t = run_end_;
    if (t >= n || s_[t] != '.') return npos;
    const bool subdomain = s_[t - 1] != '_' && s_[t - 1] != '-';
    const bool domain_name = subdomain && (run_underscore_ == npos || run_underscore_ < p);
    if (subdomain) {
      const std::size_t e = best_after(t + 1);
      if (e != npos) return e;
    }
    return domain_name ? tld_end(t + 1, n) : npos;
  }

  // With the label before q as a subdomain: the end of the top-level domain after the last label
  // that can be the domain name, walking labels from q; remembered for the labels walked.
  std::size_t best_after(std::size_t q) noexcept {
    if (walk_begin_ != npos && walk_begin_ <= q && q <= walk_stop_)
      return (best_label_ != npos && best_label_ >= q) ? best_end_ : npos;
    const std::size_t n = s_.size();
    walk_begin_ = q;
    best_label_ = npos;
    std::size_t m = q;
    while (m < n && is_domain_char(decode(s_, m).value)) {
      std::size_t t = m;
      bool underscore = false;
      while (t < n) {
        const code_point c = decode(s_, t);
        if (!is_label_char(c.value)) break;
        underscore |= c.value == '_';
        t += c.size;
      }
      if (t >= n || s_[t] != '.' || s_[t - 1] == '_' || s_[t - 1] == '-') break;
      if (!underscore) {
        const std::size_t e = tld_end(t + 1, n);
        if (e != npos) {
          best_label_ = m;
          best_end_ = e;
        }
      }
      m = t + 1;
    }
    walk_stop_ = m;
    return best_label_ != npos ? best_end_ : npos;
  }

  // End of a top-level domain at q, looking no further than lim (the end of the string the regex
  // runs on): a known two-letter country code, or 3 to 18 ASCII letters (twitter-text lists
  // 1,164 generic ones of 3 to 18 letters and ~150 non-ASCII ones; see docs/engine.md), not
  // followed by a letter, a digit, '@', '+' or '-'; or punycode ("xn--...").
  std::size_t tld_end(std::size_t q, std::size_t lim) const noexcept {
    if (q >= lim) return npos;
    std::size_t r = q;
    while (r < lim && is_ascii_alpha(s_[r])) ++r;
    const std::size_t len = r - q;
    const bool ends = r >= lim || !(is_ascii_alnum(s_[r]) || s_[r] == '@' || s_[r] == '+' || s_[r] == '-');
    if (ends && ((len >= 3 && len <= 18) || (len == 2 && is_cctld(s_[q], s_[q + 1])))) return r;
    if (lim - q > 4 && starts_with_ci(s_.substr(0, lim), q, "xn--")) {
      r = q + 4;
      while (r < lim && (is_ascii_alnum(s_[r]) || s_[r] == '-')) ++r;
      if (r > q + 4) return r;
    }
    return npos;
  }

  // End of a path whose '/' ends at i: the longest run of path characters and balanced
  // parentheses that ends with a character a path may end with.
  std::size_t path_end(std::size_t i) const noexcept {
    const std::size_t n = s_.size();
    std::size_t k = i, last = i;
    while (k < n) {
      if (s_[k] == '(') {
        const std::size_t e = parens_end(k);
        if (e == npos) break;
        k = last = e;
        continue;
      }
      const code_point c = decode(s_, k);
      if (!is_path_char(c.value)) break;
      k += c.size;
      if (is_path_end(c.value)) last = k;
    }
    return last;
  }

  std::size_t skip_path_chars(std::size_t k) const noexcept {
    while (k < s_.size()) {
      const code_point c = decode(s_, k);
      if (!is_path_char(c.value)) break;
      k += c.size;
    }
    return k;
  }

  // At k, "(x)" with x a non-empty run of path characters, or "(x(y)z)" with y a non-empty one
  // (x and z may be empty); npos if neither.
  std::size_t parens_end(std::size_t k) const noexcept {
    const std::size_t n = s_.size();
    const std::size_t a = skip_path_chars(k + 1);
    if (a < n && s_[a] == ')' && a > k + 1) return a + 1;
    if (a < n && s_[a] == '(') {
      const std::size_t b = skip_path_chars(a + 1);
      if (b > a + 1 && b < n && s_[b] == ')') {
        const std::size_t c = skip_path_chars(b + 1);
        if (c < n && s_[c] == ')') return c + 1;
      }
    }
    return npos;
  }

  // End of a query whose '?' ends at i, before lim: the longest run of query characters ending
  // with one a query may end with; npos if there is none.
  std::size_t query_end(std::size_t i, std::size_t lim) const noexcept {
    std::size_t last = npos;
    for (std::size_t k = i; k < lim; ++k) {
      const auto c = static_cast<unsigned char>(s_[k]);
      if (c >= 0x80 || !(ascii_classes[c] & k_query)) break;
      if (ascii_classes[c] & k_query_end) last = k + 1;
    }
    return last;
  }

  // twitter-text's isValidUrl: its light IDNA check of the host and the 4,096-character limit.
  bool valid_url(const match& m) const noexcept {
    const std::string_view host = s_.substr(m.host, m.host_end - m.host);
    std::size_t ignored = 0;
    if (host.substr(0, 4) == "xn--" && !last_ascii_domain(m.host, m.host_end, ignored)) return false;
    for (std::size_t a = 0; a <= host.size();) {
      std::size_t b = host.find('.', a);
      if (b == npos) b = host.size();
      const std::size_t len = ascii_label_length(host.substr(a, b - a), m.low_half && a == 0);
      if (len < 1 || len > 63) return false;
      a = b + 1;
    }
    const std::size_t bytes = m.end - m.url;
    if (bytes <= 4096 - 8) return true;  // UTF-16 units never outnumber UTF-8 bytes
    std::size_t units = 0;
    for (std::size_t k = m.url; k < m.end; ++k) {
      const auto c = static_cast<unsigned char>(s_[k]);
      units += (c & 0xC0) != 0x80;
      units += c >= 0xF0;
    }
    return (m.protocol ? m.protocol : 8) + units - (m.low_half ? 1 : 0) <= 4096;
  }

  // twitter-text's validAsciiDomain, matched leftmost-first over s_[a, b): the start of the last
  // match, if any. Linear: a chain of labels without a top-level domain is skipped whole.
  bool last_ascii_domain(std::size_t a, std::size_t b, std::size_t& start) const noexcept {
    bool found = false;
    auto run_end = [&](std::size_t k) {
      while (k < b) {
        const code_point c = decode(s_, k);
        if (!is_ascii_domain_char(c.value)) break;
        k += c.size;
      }
      return k;
    };
    std::size_t i = a;
    while (i < b) {
      const code_point c = decode(s_, i);
      if (!is_ascii_domain_char(c.value)) {
        i += c.size;
        continue;
      }
      const std::size_t t = run_end(i);
      if (t >= b || s_[t] != '.') {
        i = t;
        continue;
      }
      std::size_t best = npos, m = t + 1;
      while (true) {
        const std::size_t e = tld_end(m, b);
        if (e != npos) best = e;
        const std::size_t tm = run_end(m);
        if (tm == m || tm >= b || s_[tm] != '.') break;
        m = tm + 1;
      }
      if (best == npos) {
        i = m;
        continue;
      }
      start = i;
      found = true;
      i = best;
    }
    return found;
  }

  std::string_view s_;
  std::size_t limit_;
  std::size_t pos_ = 0;
  std::size_t run_begin_ = npos, run_end_ = 0, run_underscore_ = npos;
  std::size_t walk_begin_ = npos, walk_stop_ = 0, best_label_ = npos, best_end_ = 0;
};

// Byte offset of the hash mark of a hashtag found in `text`.
inline std::size_t mark_of(std::string_view text, std::string_view tag) noexcept {
  const auto at = static_cast<std::size_t>(tag.data() - text.data());
  return text[at - 1] == '#' ? at - 1 : at - 3;
}

}  // namespace

void extract_hashtags(std::string_view text, std::vector<std::string_view>& out) {
  out.clear();
  const std::size_t n = text.size();
  std::size_t next_ascii = text.find('#');
  std::size_t next_wide = text.find("\xEF\xBC\x83");
  std::size_t i = 0;
  std::size_t taken = npos;  // a hash mark right after a run the regex took: its boundary is gone
  while (true) {
    if (next_ascii < i) next_ascii = text.find('#', i);
    if (next_wide < i) next_wide = text.find("\xEF\xBC\x83", i);
    const std::size_t h = next_ascii < next_wide ? next_ascii : next_wide;
    if (h == npos) break;
    i = h + hash_mark(text, h);
    // The regex consumed the character before this hash mark (U+FE0E or U+FE0F, the only
    // hashtag characters that may precede one) with the run it rejected.
    if (h == taken) continue;
    if (h > 0) {  // not after a hashtag character or '&'; U+FE0E and U+FE0F (emoji styles) are fine
      const char32_t p = decode_before(text, h);
      if (p != 0xFE0E && p != 0xFE0F && (p == '&' || (tag_class(p) & k_tag))) continue;
    }
    if (i >= n) break;
    const code_point first = decode(text, i);
    if (first.value == 0xFE0F || first.value == 0x20E3) continue;  // a keycap: #️⃣
    std::size_t k = i;
    unsigned seen = 0;
    while (k < n) {
      const auto b = static_cast<unsigned char>(text[k]);
      unsigned cls;
      std::size_t len = 1;
      if (b < 0x80) {
        cls = ascii_classes[b];
      } else {
        const code_point c = decode(text, k);
        cls = tag_class(c.value);
        len = c.size;
      }
      if (!(cls & k_tag)) break;
      seen |= cls;
      k += len;
    }
    if (!(seen & k_letter)) continue;  // empty, or digits and joiners only
    if (hash_mark(text, k) || text.substr(k, 3) == "://") {
      i = taken = k;
      continue;
    }
    out.push_back(text.substr(i, k - i));
    i = k;
  }
  if (out.empty() || text.find('.') == npos) return;  // no URL without a '.'

  // Drop the hashtags that start inside a URL, as removeOverlappingEntities does: entities in
  // order of start, each one dropped when it starts before the end of the last one kept. Only
  // URLs drop hashtags, and a URL holds no white space, so a hash mark after white space (the
  // usual case) is never inside one: URLs are looked for only up to the last other hash mark.
  std::size_t limit = 0;
  for (const auto tag : out) {
    const std::size_t mark = mark_of(text, tag);
    if (mark == 0) continue;
    const char32_t before = decode_before(text, mark);
    if (!(before < 0x80 ? (ascii_class(before) & k_space) : is_unicode_space(before))) limit = mark;
  }
  if (limit == 0) return;
  url_scanner urls(text, limit);
  span url{};
  bool have_url = urls.next(url);
  bool have_prev = false;
  std::size_t prev_end = 0, kept = 0;
  for (std::size_t t = 0; t < out.size(); ++t) {
    const std::size_t start = mark_of(text, out[t]);
    for (; have_url && url.begin < start; have_url = urls.next(url)) {
      if (!have_prev || prev_end <= url.begin) {
        prev_end = url.end;
        have_prev = true;
      }
    }
    if (have_prev && prev_end > start) continue;
    prev_end = static_cast<std::size_t>(out[t].data() - text.data()) + out[t].size();
    have_prev = true;
    out[kept++] = out[t];
  }
  out.resize(kept);
}

}  // namespace engine
