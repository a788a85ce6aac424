#include "socket_receiver/records.hpp"

#include <algorithm>
#include <span>

#include "common/log.hpp"
#include "wire/pylit.hpp"
#include "wire/url.hpp"

namespace socket_receiver {

std::string form_body(const wire::record::top_list& top) {
  std::string labels, counts;
  wire::pylit::append_repr_list(std::span<const std::string>(top.labels), labels);
  wire::pylit::append_repr_list(std::span<const std::int64_t>(top.counts), counts);
  return wire::url::encode_form({{"label", labels}, {"data", counts}});
}

bool malformed_tally::note(std::string_view kind) {
  ++total_;
  if (auto it = kinds_.find(kind); it != kinds_.end()) {
    ++it->second;
    return false;
  }
  if (kinds_.size() >= max_kinds) {
    auto [it, fresh] = kinds_.try_emplace("other", 0);
    ++it->second;
    return fresh;
  }
  kinds_.emplace(std::string(kind), 1);
  return true;
}

std::uint64_t malformed_tally::count(std::string_view kind) const {
  auto it = kinds_.find(kind);
  return it == kinds_.end() ? 0 : it->second;
}

std::string describe_malformed(std::string_view text, const wire::error& error) {
  constexpr std::size_t before = 40, shown = 100;
  // The white space the engine writes after each ';;' is no part of the record worth showing.
  const std::size_t start = std::min(text.find_first_not_of(" \t\n\r\f\v"), text.size());
  const std::size_t at = std::min(error.offset, text.size());
  const std::size_t from = std::max(start, at > before ? at - before : 0);
  const std::string_view window = text.substr(from, shown);
  return common::log::escape(error.message, shown) + " at byte " + std::to_string(error.offset) + " of a " +
         std::to_string(text.size()) + "-byte record: " + (from > start ? "..." : "") +
         common::log::escape(window, shown) + (from + window.size() < text.size() ? "..." : "");
}

void quote_state::scan(std::string_view bytes) noexcept {
  char q = quote;
  bool esc = escaped;
  for (const char c : bytes) {
    if (esc) esc = false;
    else if (q == 0) q = (c == '\'' || c == '"') ? c : 0;
    else if (c == '\\') esc = true;
    else if (c == q) q = 0;
  }
  quote = q;
  escaped = esc;
}

namespace {

bool starts_record(std::string_view text) noexcept {
  const std::size_t start = text.find_first_not_of(" \t\n\r\f\v");
  return start != std::string_view::npos && text[start] == '{';
}

void note_malformed(std::string_view text, const wire::error& error, malformed_tally& malformed,
                    std::vector<std::string>& kinds) {
  if (malformed.note(error.message)) kinds.push_back(describe_malformed(text, error));
}

}  // namespace

drained drain(wire::record::splitter& split, malformed_tally& malformed, cut_record& cut) {
  drained out;
  std::vector<std::string> pieces;
  while (auto piece = split.next()) pieces.push_back(std::move(*piece));
  out.received = pieces.size();
  if (pieces.empty()) return out;
  // The fast path, every read of an engine's stream: the engine writes ";;\n" after each record,
  // and repr never leaves a newline raw inside a label, so a piece that starts with a raw newline
  // starts a record. When the newest piece does and parses, it is the newest record: the older
  // ones, and any record cut open before, are superseded without the cost of parsing them (parsing
  // is ~15x the cost of splitting; the engine can write millions of records a second).
  if (pieces.back().starts_with('\n')) {
    if (auto top = wire::record::parse(pieces.back())) {
      out.valid = 1;
      out.unparsed = pieces.size() - 1 + (cut.open ? 1 : 0);
      out.newest = std::move(*top);
      cut = cut_record{};
      return out;
    }
  }
  // Pieces into records: a record that ends inside one of its strings (the ';;' framing cut a
  // label) goes on in the next piece, which is never read on its own: a piece of a hostile label
  // (`{"label":"[]","data":"[]"}` in "#a;;...;;") never passes for a record. This path, with its
  // quote scan of every piece (3x the cost of the fast path), is taken only when the newest piece
  // does not start with a newline (a hand-written stream, a cut label) or does not parse.
  std::vector<std::string> records;
  for (auto& piece : pieces) {
    // A piece that starts with a raw newline starts a record: the engine writes ";;\n" after each
    // one, and repr never leaves a newline raw inside a label. A cut record still open there was
    // garbage (a stray quote): dropped, and the stream is in step again.
    if (cut.open && !piece.empty() && piece.front() == '\n') {
      if (!cut.discarding)
        note_malformed(cut.text, {cut.text.size(), "a record cut at ';;' inside a string did not go on"}, malformed,
                       out.new_kinds);
      cut = cut_record{};
    }
    if (cut.open) {
      cut.quotes.scan(wire::record::separator);
      cut.quotes.scan(piece);
      if (!cut.discarding) cut.text.append(wire::record::separator).append(piece);
    } else {
      cut.quotes = quote_state{};
      if (starts_record(piece)) cut.quotes.scan(piece);
      // Cut only when the parser also reads it so: a record with an odd quote elsewhere (in
      // garbage, say) is malformed now, not held for the next piece.
      if (cut.quotes.inside() && wire::record::parse(piece).error.message != wire::pylit::unterminated_string)
        cut.quotes = quote_state{};
      cut.text = std::move(piece);
    }
    cut.open = cut.quotes.inside();
    if (cut.open && !cut.discarding && cut.text.size() > wire::record::max_record) {
      note_malformed(std::string_view(cut.text).substr(0, 200),
                     {0, "a record cut at ';;' inside a string grew past the record limit"}, malformed, out.new_kinds);
      cut.discarding = true;  // skipped up to its end, in bounded memory
      cut.text.clear();
      cut.text.shrink_to_fit();
    }
    if (!cut.open) {
      if (!cut.discarding) records.push_back(std::move(cut.text));
      cut.text.clear();
      cut.discarding = false;
    }
  }
  // Newest first, until one parses: the older ones are superseded unparsed.
  std::vector<std::string> newer_kinds;
  for (std::size_t k = records.size(); k-- > 0;) {
    auto top = wire::record::parse(records[k]);
    if (top) {
      out.valid = 1;
      out.unparsed = k;
      out.newest = std::move(*top);
      break;
    }
    note_malformed(records[k], top.error, malformed, newer_kinds);
  }
  out.new_kinds.insert(out.new_kinds.end(), newer_kinds.rbegin(), newer_kinds.rend());  // in stream order
  return out;
}

bool unfinished(std::string_view pending) noexcept {
  return pending.find_first_not_of(" \t\n\r\f\v") != std::string_view::npos;
}

}  // namespace socket_receiver
