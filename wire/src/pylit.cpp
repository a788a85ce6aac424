#include "wire/pylit.hpp"

#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>

#include "wire/url.hpp"
#include "wire/utf8.hpp"

namespace wire::pylit {

// ---- Writing ---------------------------------------------------------------------------

namespace {

// Characters Unicode 15 assigned and Python 3.11 (Unicode 14, the reference engine's
// version) still sees as unassigned, hence not printable. utf8proc 2.8 knows Unicode 15.
struct cp_range {
  char32_t first, last;
};
constexpr std::array<cp_range, 32> unassigned_in_python311{{
    {0xcf3, 0xcf3},     {0xece, 0xece},     {0x10efd, 0x10eff}, {0x1123f, 0x11241}, {0x11b00, 0x11b09},
    {0x11f00, 0x11f10}, {0x11f12, 0x11f3a}, {0x11f3e, 0x11f59}, {0x1342f, 0x1342f}, {0x13440, 0x13455},
    {0x1b132, 0x1b132}, {0x1b155, 0x1b155}, {0x1d2c0, 0x1d2d3}, {0x1df25, 0x1df2a}, {0x1e030, 0x1e06d},
    {0x1e08f, 0x1e08f}, {0x1e4d0, 0x1e4f9}, {0x1f6dc, 0x1f6dc}, {0x1f774, 0x1f776}, {0x1f77b, 0x1f77f},
    {0x1f7d9, 0x1f7d9}, {0x1fa75, 0x1fa77}, {0x1fa87, 0x1fa88}, {0x1faad, 0x1faaf}, {0x1fabb, 0x1fabd},
    {0x1fabf, 0x1fabf}, {0x1face, 0x1facf}, {0x1fada, 0x1fadb}, {0x1fae8, 0x1fae8}, {0x1faf7, 0x1faf8},
    {0x2b739, 0x2b739}, {0x31350, 0x323af},
}};

bool unassigned_in_reference(char32_t cp) {
  const auto it = std::upper_bound(unassigned_in_python311.begin(), unassigned_in_python311.end(), cp,
                                   [](char32_t c, const cp_range& r) { return c < r.first; });
  return it != unassigned_in_python311.begin() && cp <= std::prev(it)->last;
}

constexpr char hex_digits[] = "0123456789abcdef";

void append_hex(std::string& out, char32_t cp, int digits) {
  for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) out.push_back(hex_digits[(cp >> shift) & 0xF]);
}

}  // namespace

bool is_printable(char32_t cp) noexcept {
  if (cp < 0x80) return cp >= 0x20 && cp != 0x7F;
  if (cp > 0x10FFFF) return false;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(cp))) {
    case UTF8PROC_CATEGORY_CN:
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CS:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_ZS:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
      return false;
    default:
      return !unassigned_in_reference(cp);
  }
}

void append_repr(std::string_view s, std::string& out) {
  // Python 3: single quotes unless the text has a single quote and no double quote.
  const bool has_single = s.find('\'') != std::string_view::npos;
  const char quote = has_single && s.find('"') == std::string_view::npos ? '"' : '\'';
  out.reserve(out.size() + s.size() + 2);
  out.push_back(quote);
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      if (c == static_cast<unsigned char>(quote) || c == '\\') {
        out.push_back('\\');
        out.push_back(static_cast<char>(c));
      } else if (c == '\t') {
        out += "\\t";
      } else if (c == '\n') {
        out += "\\n";
      } else if (c == '\r') {
        out += "\\r";
      } else if (c < 0x20 || c == 0x7F) {
        out += "\\x";
        append_hex(out, c, 2);
      } else {
        out.push_back(static_cast<char>(c));
      }
      continue;
    }
    const std::size_t start = i;
    const char32_t cp = utf8::next(s, i);
    if (is_printable(cp)) {
      out.append(s.substr(start, i - start));
    } else if (cp <= 0xFF) {
      out += "\\x";
      append_hex(out, cp, 2);
    } else if (cp <= 0xFFFF) {
      out += "\\u";
      append_hex(out, cp, 4);
    } else {
      out += "\\U";
      append_hex(out, cp, 8);
    }
  }
  out.push_back(quote);
}

namespace {
template <class Str>
void append_str_list(std::span<const Str> items, std::string& out) {
  out.push_back('[');
  for (std::size_t k = 0; k < items.size(); ++k) {
    if (k) out += ", ";
    append_repr(items[k], out);
  }
  out.push_back(']');
}
}  // namespace

void append_repr_list(std::span<const std::string> items, std::string& out) { append_str_list(items, out); }
void append_repr_list(std::span<const std::string_view> items, std::string& out) { append_str_list(items, out); }

void append_repr_list(std::span<const std::int64_t> items, std::string& out) {
  out.push_back('[');
  char digits[24];
  for (std::size_t k = 0; k < items.size(); ++k) {
    if (k) out += ", ";
    const auto r = std::to_chars(digits, digits + sizeof digits, items[k]);
    out.append(digits, r.ptr);
  }
  out.push_back(']');
}

std::string repr(std::string_view s) {
  std::string out;
  append_repr(s, out);
  return out;
}

std::string repr_list(std::span<const std::string> items) {
  std::string out;
  append_repr_list(items, out);
  return out;
}

std::string repr_list(std::span<const std::int64_t> items) {
  std::string out;
  append_repr_list(items, out);
  return out;
}

// ---- Reading ---------------------------------------------------------------------------

namespace {

struct parse_failure {
  std::size_t offset;
  std::string message;
};

class parser {
public:
  explicit parser(std::string_view text) : s_(text) {}

  value parse_top() {
    if (s_.size() > max_input) fail(max_input, "literal longer than " + std::to_string(max_input) + " bytes");
    // Python decodes the bytes before literal_eval sees them: raw invalid UTF-8 is no literal.
    if (const std::size_t bad = utf8::invalid_at(s_); bad != std::string_view::npos) fail(bad, "invalid UTF-8");
    skip_space();
    value v = parse_value(0);
    skip_space();
    if (i_ != s_.size()) fail(i_, "unexpected " + describe_here() + " after the literal");
    return v;
  }

private:
  [[noreturn]] void fail(std::size_t at, std::string message) { throw parse_failure{at, std::move(message)}; }

  std::string describe_here() const {
    if (i_ >= s_.size()) return "end of input";
    const auto c = static_cast<unsigned char>(s_[i_]);
    char buf[32];
    if (c >= 0x20 && c < 0x7F) std::snprintf(buf, sizeof buf, "'%c'", c);
    else std::snprintf(buf, sizeof buf, "byte 0x%02x", c);
    return buf;
  }

  void skip_space() {
    while (i_ < s_.size()) {
      const char c = s_[i_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') ++i_;
      else if (c == '\\' && i_ + 1 < s_.size() && s_[i_ + 1] == '\n') i_ += 2;  // explicit line joining
      else break;
    }
  }

  bool at_string_start() const {
    std::size_t j = i_;
    for (int k = 0; k < 2 && j < s_.size(); ++k, ++j) {
      const char c = s_[j];
      if (c == '\'' || c == '"') return true;
      if (c != 'u' && c != 'U' && c != 'b' && c != 'B' && c != 'r' && c != 'R') return false;
    }
    return j < s_.size() && (s_[j] == '\'' || s_[j] == '"');
  }

  value parse_value(std::size_t depth) {
    if (depth > max_depth) fail(i_, "nested deeper than " + std::to_string(max_depth) + " levels");
    if (i_ >= s_.size()) fail(i_, "expected a literal, found end of input");
    const char c = s_[i_];
    if (c == '[') return parse_list(depth);
    if (c == '{') return parse_dict(depth);
    if (c == '-' || c == '+' || (c >= '0' && c <= '9')) return parse_int();
    if (at_string_start()) return parse_strings();
    fail(i_, "expected a str, int, list or dict, found " + describe_here());
  }

  value parse_list(std::size_t depth) {
    ++i_;  // '['
    list items;
    skip_space();
    while (true) {
      if (i_ >= s_.size()) fail(i_, "unterminated list");
      if (s_[i_] == ']') break;
      items.push_back(parse_value(depth + 1));
      skip_space();
      if (i_ < s_.size() && s_[i_] == ',') {
        ++i_;
        skip_space();
      } else if (i_ >= s_.size() || s_[i_] != ']') {
        fail(i_, "expected ',' or ']' in list, found " + describe_here());
      }
    }
    ++i_;
    return value{std::move(items)};
  }

  value parse_dict(std::size_t depth) {
    ++i_;  // '{'
    dict items;
    skip_space();
    while (true) {
      if (i_ >= s_.size()) fail(i_, "unterminated dict");
      if (s_[i_] == '}') break;
      const std::size_t key_at = i_;
      value key = parse_value(depth + 1);
      if (std::holds_alternative<list>(key.v) || std::holds_alternative<dict>(key.v))
        fail(key_at, "unhashable dict key");
      skip_space();
      if (i_ >= s_.size() || s_[i_] != ':') fail(i_, "expected ':' in dict, found " + describe_here());
      ++i_;
      skip_space();
      value val = parse_value(depth + 1);
      // Python keeps the last value of a repeated key, at the first key's position.
      auto same = std::find_if(items.begin(), items.end(), [&](const auto& kv) { return kv.first == key; });
      if (same != items.end()) same->second = std::move(val);
      else items.push_back({std::move(key), std::move(val)});
      skip_space();
      if (i_ < s_.size() && s_[i_] == ',') {
        ++i_;
        skip_space();
      } else if (i_ >= s_.size() || s_[i_] != '}') {
        fail(i_, "expected ',' or '}' in dict, found " + describe_here());
      }
    }
    ++i_;
    return value{std::move(items)};
  }

  value parse_int() {
    const std::size_t start = i_;
    bool negative = false;
    while (i_ < s_.size() && (s_[i_] == '-' || s_[i_] == '+')) {
      negative ^= s_[i_] == '-';
      ++i_;
      skip_space();
    }
    const std::size_t digits_at = i_;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
    if (i_ == digits_at) fail(start, "expected digits after the sign");
    const std::string_view digits = s_.substr(digits_at, i_ - digits_at);
    if (digits.size() > 1 && digits[0] == '0' && digits.find_first_not_of('0') != std::string_view::npos)
      fail(digits_at, "leading zeros in an int are not allowed");
    std::uint64_t magnitude = 0;
    const auto r = std::from_chars(digits.data(), digits.data() + digits.size(), magnitude);
    constexpr std::uint64_t limit = 9223372036854775807ULL;
    if (r.ec != std::errc{} || magnitude > limit + (negative ? 1 : 0)) fail(digits_at, "int out of 64-bit range");
    if (negative) return value{static_cast<std::int64_t>(0 - magnitude)};
    return value{static_cast<std::int64_t>(magnitude)};
  }

  // Adjacent literals concatenate, as in Python source: 'a' "b" == 'ab'.
  value parse_strings() {
    const std::size_t start = i_;
    bool is_bytes = false;
    std::string text = parse_one_string(is_bytes);
    while (true) {
      const std::size_t save = i_;
      skip_space();
      if (!at_string_start()) {
        i_ = save;
        break;
      }
      bool next_bytes = false;
      text += parse_one_string(next_bytes);
      if (next_bytes != is_bytes) fail(start, "cannot mix bytes and str literals");
    }
    if (is_bytes) return value{bytes_value{std::move(text)}};
    return value{std::move(text)};
  }

  char32_t read_hex(std::size_t count, std::size_t escape_at) {
    if (i_ + count > s_.size()) fail(escape_at, "truncated \\x, \\u or \\U escape");
    char32_t v = 0;
    for (std::size_t k = 0; k < count; ++k) {
      const int h = url::hex_value(s_[i_ + k]);
      if (h < 0) fail(escape_at, "bad hex digit in escape");
      v = (v << 4) | static_cast<char32_t>(h);
    }
    i_ += count;
    return v;
  }

  // A run of \xNN escapes. In a str, bytes that form valid multi-byte UTF-8 decode as that
  // UTF-8 (Python 2 byte strings); any other byte is U+00NN (Python 3). In bytes: raw bytes.
  void read_hex_run(std::string& out, bool is_bytes, std::size_t escape_at) {
    std::string run;
    run.push_back(static_cast<char>(read_hex(2, escape_at)));
    while (i_ + 1 < s_.size() && s_[i_] == '\\' && s_[i_ + 1] == 'x') {
      const std::size_t at = i_;
      i_ += 2;
      run.push_back(static_cast<char>(read_hex(2, at)));
    }
    if (is_bytes) {
      out += run;
      return;
    }
    std::size_t k = 0;
    while (k < run.size()) {
      const auto c = static_cast<unsigned char>(run[k]);
      const std::size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 1;
      if (len > 1 && k + len <= run.size() && utf8::valid(std::string_view(run).substr(k, len))) {
        out.append(run, k, len);
        k += len;
      } else {
        utf8::append(c, out);
        ++k;
      }
    }
  }

  std::string parse_one_string(bool& is_bytes) {
    bool raw = false;
    while (s_[i_] != '\'' && s_[i_] != '"') {
      const char p = s_[i_];
      if (p == 'b' || p == 'B') is_bytes = true;
      if (p == 'r' || p == 'R') raw = true;
      ++i_;
    }
    const char quote = s_[i_];
    const std::size_t open_at = i_;
    ++i_;
    if (i_ + 1 < s_.size() && s_[i_] == quote && s_[i_ + 1] == quote) fail(open_at, "triple-quoted strings are not supported");
    std::string out;
    while (true) {
      if (i_ >= s_.size()) fail(open_at, std::string(unterminated_string));
      const char c = s_[i_];
      if (c == quote) {
        ++i_;
        return out;
      }
      if (c == '\n' || c == '\r') fail(i_, "line break inside a string literal");
      if (is_bytes && static_cast<unsigned char>(c) >= 0x80) fail(i_, "bytes literal with a non-ASCII character");
      if (c != '\\') {
        out.push_back(c);
        ++i_;
        continue;
      }
      const std::size_t escape_at = i_;
      if (i_ + 1 >= s_.size()) fail(escape_at, std::string(unterminated_string));
      const char e = s_[i_ + 1];
      if (raw) {  // a raw literal keeps the backslash; it only stops the quote from closing
        out.push_back('\\');
        if (e == '\n') fail(i_ + 1, "line break inside a string literal");
        out.push_back(e);
        i_ += 2;
        continue;
      }
      i_ += 2;
      switch (e) {
        case '\n': break;  // line continuation
        case '\\': out.push_back('\\'); break;
        case '\'': out.push_back('\''); break;
        case '"': out.push_back('"'); break;
        case 'a': out.push_back('\a'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'v': out.push_back('\v'); break;
        case 'x': read_hex_run(out, is_bytes, escape_at); break;
        case 'u':
        case 'U': {
          if (is_bytes) {  // not an escape in bytes: kept as typed
            out.push_back('\\');
            out.push_back(e);
            break;
          }
          const char32_t cp = read_hex(e == 'u' ? 4 : 8, escape_at);
          if (cp > 0x10FFFF) fail(escape_at, "\\U escape beyond U+10FFFF");
          if (cp >= 0xD800 && cp <= 0xDFFF) fail(escape_at, "surrogate code point in a string");
          utf8::append(cp, out);
          break;
        }
        case 'N': fail(escape_at, "\\N{...} escapes are not supported");
        default:
          if (e >= '0' && e <= '7') {
            unsigned v = static_cast<unsigned>(e - '0');
            for (int k = 0; k < 2 && i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '7'; ++k, ++i_)
              v = v * 8 + static_cast<unsigned>(s_[i_] - '0');
            if (is_bytes) out.push_back(static_cast<char>(v & 0xFF));
            else utf8::append(v, out);
          } else {  // unknown escapes keep their backslash, as Python does
            out.push_back('\\');
            --i_;
          }
      }
    }
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

}  // namespace

parsed<value> parse(std::string_view text) {
  try {
    parser p(text);
    return parsed<value>::ok(p.parse_top(), text.size());
  } catch (parse_failure& f) {
    return parsed<value>::bad(f.offset, std::move(f.message));
  }
}

parsed<std::vector<std::string>> parse_str_list(std::string_view text) {
  using out_t = parsed<std::vector<std::string>>;
  auto r = parse(text);
  if (!r) return out_t::bad(r);
  auto* items = std::get_if<list>(&r->v);
  if (!items) return out_t::bad(0, "expected a list of str");
  std::vector<std::string> out;
  out.reserve(items->size());
  for (auto& item : *items) {
    if (auto* s = std::get_if<std::string>(&item.v)) {
      out.push_back(std::move(*s));
    } else if (auto* b = std::get_if<bytes_value>(&item.v); b && utf8::valid(b->data)) {
      out.push_back(std::move(b->data));
    } else {
      return out_t::bad(0, "list item " + std::to_string(out.size()) + " is not a str");
    }
  }
  return out_t::ok(std::move(out), text.size());
}

parsed<std::vector<std::int64_t>> parse_int_list(std::string_view text) {
  using out_t = parsed<std::vector<std::int64_t>>;
  auto r = parse(text);
  if (!r) return out_t::bad(r);
  const auto* items = std::get_if<list>(&r->v);
  if (!items) return out_t::bad(0, "expected a list of int");
  std::vector<std::int64_t> out;
  out.reserve(items->size());
  for (const auto& item : *items) {
    const auto* n = std::get_if<std::int64_t>(&item.v);
    if (!n) return out_t::bad(0, "list item " + std::to_string(out.size()) + " is not an int");
    out.push_back(*n);
  }
  return out_t::ok(std::move(out), text.size());
}

}  // namespace wire::pylit
