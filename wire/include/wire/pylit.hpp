#pragma once
// Python literals, as the original programs write (str/repr) and read (ast.literal_eval) them.
// No I/O in here.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "wire/result.hpp"

namespace wire::pylit {

// ---- Writing: exactly Python 3's repr -------------------------------------------------

/// True when Python 3's str.isprintable() holds for the code point.
bool is_printable(char32_t cp) noexcept;

/// Appends repr(s) for a str `s` given as valid UTF-8: quote choice, escapes, isprintable.
void append_repr(std::string_view s, std::string& out);

/// Appends repr(list_of_str), e.g. ['#a', "#it's"].
void append_repr_list(std::span<const std::string> items, std::string& out);
void append_repr_list(std::span<const std::string_view> items, std::string& out);

/// Appends repr(list_of_int), e.g. [3, 1].
void append_repr_list(std::span<const std::int64_t> items, std::string& out);

/// Convenience forms returning a new string.
std::string repr(std::string_view s);
std::string repr_list(std::span<const std::string> items);
std::string repr_list(std::span<const std::int64_t> items);

// ---- Reading: the subset of ast.literal_eval that records use ----------------------------

inline constexpr std::size_t max_depth = 32;          ///< nesting of lists and dicts
inline constexpr std::size_t max_input = 1 << 20;     ///< bytes of literal text accepted

struct value;
struct dict_item;
using list = std::vector<value>;
using dict = std::vector<dict_item>;  ///< keys in source order

/// A parsed literal: str (as UTF-8), bytes (as raw bytes), int, list or dict.
struct bytes_value {
  std::string data;
  bool operator==(const bytes_value&) const = default;
};
struct value {
  std::variant<std::string, bytes_value, std::int64_t, list, dict> v;
  bool operator==(const value&) const = default;
};
/// One key and its value. Not a std::pair: clang with libstdc++ cannot instantiate
/// std::pair<value, value> inside `value`'s own definition (the fuzz build uses clang).
struct dict_item {
  value first;
  value second;
  bool operator==(const dict_item&) const = default;
};

/// Parses one literal: str in either quote (optionally u/b/r prefixed, adjacent literals
/// concatenated), int (optionally signed), list, dict; leading and trailing white space is
/// allowed. Escapes: \\ \' \" \a \b \f \n \r \t \v \ooo \xNN \uNNNN \UNNNNNNNN, backslash-newline.
/// Python 2 compatibility: inside a str, a run of \xNN escapes that forms valid multi-byte
/// UTF-8 decodes as that UTF-8 (a Python 2 byte string); any other \xNN is U+00NN.
/// The text must be valid UTF-8 (as the original receiver decodes it before literal_eval).
parsed<value> parse(std::string_view text);
/// The error message of a text that ends inside a string literal (a record the ';;' framing cut
/// inside a label reads so).
inline constexpr std::string_view unterminated_string = "unterminated string literal";

/// Parses a list of str, e.g. "['#a', '#b']". Bytes items are accepted when valid UTF-8.
parsed<std::vector<std::string>> parse_str_list(std::string_view text);

/// Parses a list of int, e.g. "[3, 1]".
parsed<std::vector<std::int64_t>> parse_int_list(std::string_view text);

}  // namespace wire::pylit
