#pragma once
// Wire 2 (engine -> receiver): one top-N list as the original encoder writes it,
//   str({'label': str(top_tags), 'data': str(tags_count)}) + ";;\n"
// e.g.  {'label': "['#world', '#cpp']", 'data': '[1, 1]'};;\n
// No I/O in here.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "wire/pylit.hpp"

namespace wire::record {

inline constexpr std::string_view separator = ";;";
inline constexpr std::string_view terminator = ";;\n";
/// A stream that sends this much without ";;" is cut and resynchronised.
inline constexpr std::size_t max_record = 1 << 20;

/// One top-N list: hashtags and their counts, same length, in rank order.
struct top_list {
  std::vector<std::string> labels;
  std::vector<std::int64_t> counts;
  bool operator==(const top_list&) const = default;
};

/// Appends the record text (including ";;\n") exactly as the Python 3 engine writes it.
void append(const top_list& top, std::string& out);
std::string encode(const top_list& top);

/// Parses the text of one record (without the ";;"): a dict with 'label' and 'data' in either
/// order, leading white space allowed, each value the Python literal text of a list. Accepts
/// Python 3 records and Python 2 ones (byte-string escapes doubled by the outer repr).
parsed<top_list> parse(std::string_view text);

/// Splits a byte stream on ";;". Feed bytes, then take records until none is left. A run of
/// more than `max_record` bytes without a separator is dropped up to its end and counted.
class splitter {
public:
  explicit splitter(std::size_t limit = max_record) : limit_(limit) {}

  /// Appends received bytes.
  void feed(std::string_view bytes);

  /// The next complete record's text (separator removed, leading white space kept), if any.
  std::optional<std::string> next();

  /// How many oversized runs were cut so far.
  std::size_t overflows() const noexcept { return overflows_; }

  /// Bytes waiting for a separator.
  std::size_t pending() const noexcept { return buf_.size() - pos_; }

  /// The bytes waiting for a separator (valid until the next feed() or next()).
  std::string_view pending_bytes() const noexcept { return std::string_view(buf_).substr(pos_); }

private:
  std::string buf_;
  std::size_t pos_ = 0;        // start of the unconsumed part
  std::size_t scanned_ = 0;    // offset from pos_ already searched for ";;"
  std::size_t limit_;
  std::size_t overflows_ = 0;
  bool discarding_ = false;    // inside an oversized run: drop through the next ";;"
};

}  // namespace wire::record
