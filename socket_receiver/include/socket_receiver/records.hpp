#pragma once
// The engine's records as the receiver takes them: the newest valid one out of each read, the
// malformed ones counted by kind, the form body the original receiver posts. Pure.
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wire/record.hpp"

namespace socket_receiver {

/// The POST body the original receiver sends: label and data as canonical Python 3 list
/// literals, form-encoded as Python's urlencode does, so that the original Flask app shows
/// '#café' whatever engine wrote the record.
std::string form_body(const wire::record::top_list& top);

/// Malformed records counted by kind (the parser's message), so each kind is logged once.
class malformed_tally {
public:
  /// Distinct kinds kept; the rest are counted under one "other" kind so memory stays bounded.
  static constexpr std::size_t max_kinds = 64;

  /// Counts one malformed record; true when its kind is new (the caller logs it in full).
  bool note(std::string_view kind);
  /// All malformed records so far.
  std::uint64_t total() const noexcept { return total_; }
  /// How many records of one kind were seen.
  std::uint64_t count(std::string_view kind) const;

private:
  std::map<std::string, std::uint64_t, std::less<>> kinds_;
  std::uint64_t total_ = 0;
};

/// What one read's complete records amount to: only the newest valid one is worth forwarding.
struct drained {
  std::uint64_t received = 0;                    ///< complete records taken from the splitter (each piece of a cut one counts)
  std::uint64_t valid = 0;                       ///< records that parsed (0 or 1: the newest valid one)
  std::uint64_t unparsed = 0;                    ///< records older than the newest valid one, superseded unparsed
  std::optional<wire::record::top_list> newest;  ///< the last valid record, if any
  /// First-seen malformed kinds, in stream order, ready to log: the reason, its offset and an
  /// excerpt of the record around it, escaped (the record's bytes came from the peer).
  std::vector<std::string> new_kinds;
};

/// Where a record's text stands after some bytes: outside any string literal, or inside one
/// (just after a backslash or not). Python string literals, as records have them.
struct quote_state {
  char quote = 0;        ///< the quote that opened the string we are in, 0 outside
  bool escaped = false;  ///< just after a backslash inside a string
  void scan(std::string_view bytes) noexcept;
  bool inside() const noexcept { return quote != 0; }
};

/// A record the ';;' framing cut inside one of its strings, kept between reads: the original's
/// rule takes "#a;;b" for a hashtag, and the engine writes it as the original did.
struct cut_record {
  std::string text;          ///< its pieces so far, joined with ';;' again
  quote_state quotes;        ///< where its text stands
  bool open = false;         ///< the record goes on in the next piece
  bool discarding = false;   ///< it grew past wire::record::max_record: skipped to its end unkept
};

/// Takes every complete record out of `split` and returns the newest valid one (Python 3 and
/// Python 2 records alike). Each record is a full top-10, so older ones in the same read are
/// superseded without the cost of parsing them (parsing is ~15x the cost of splitting, and the
/// engine can write millions of records a second): when the newest piece starts with the newline
/// an engine writes after ';;' and parses, nothing else is read. Otherwise the pieces are read in
/// stream order, and a record cut at a ';;' inside one of its strings is joined again from its
/// pieces, across reads through `cut`. Malformed records met on the way are counted in `malformed`.
drained drain(wire::record::splitter& split, malformed_tally& malformed, cut_record& cut);

/// "REASON at byte N of a M-byte record: EXCERPT" for one malformed record: at most 100 bytes
/// of `text` around the error's offset, escaped for a log line ("..." where cut).
std::string describe_malformed(std::string_view text, const wire::error& error);

/// True when bytes left over at the end of a connection are a record cut short; false when they
/// are only the white space the engine writes after the last ';;' (its "\n").
bool unfinished(std::string_view pending) noexcept;

}  // namespace socket_receiver
