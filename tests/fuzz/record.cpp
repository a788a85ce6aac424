// wire::record::splitter and wire::record::parse. The first byte picks a piece size and the
// splitter's limit (the default, or a small one so that oversized runs happen). The rest, split
// whole and in pieces, gives the same records and the same overflow count; each record that
// parses is encoded again with wire::record::encode, and that parses to the same top_list.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "check.hpp"
#include "wire/record.hpp"

using trend_fuzz::check;

namespace {

struct split_result {
  std::vector<std::string> records;
  std::size_t overflows = 0;
};

split_result split(std::string_view in, std::size_t piece, std::size_t limit) {
  wire::record::splitter s(limit);
  split_result out;
  for (std::size_t at = 0; at < in.size(); at += piece) {
    s.feed(in.substr(at, piece));
    while (auto r = s.next()) {
      check(r->size() <= limit, "a record over the limit");
      check(r->find(wire::record::separator) == std::string::npos, "a record holds the separator");
      out.records.push_back(std::move(*r));
    }
    // Memory stays bounded: what waits for a separator is at most a record and its first ';'.
    check(s.pending() <= limit + 1, "the splitter holds more than a record and a ';'");
  }
  out.overflows = s.overflows();
  return out;
}

// encode(top), then split and parse again: the same top_list.
void check_round_trip(const wire::record::top_list& top) {
  const std::string text = wire::record::encode(top);
  check(text.ends_with(wire::record::terminator), "encode wrote no terminator");
  const std::string_view body = std::string_view(text).substr(0, text.size() - wire::record::terminator.size());
  std::optional<std::string> r;
  if (body.find(wire::record::separator) == std::string_view::npos) {
    wire::record::splitter s;
    s.feed(text);
    r = s.next();
    check(r.has_value() && !s.next(), "an encoded record does not split into one record");
  } else {
    // A label holding ";;" (the original's rule takes "#a;;b" for a hashtag) is written as the
    // original wrote it, and no ';;' stream can frame it: the known limit of the wire format
    // (docs/receiver-dashboard.md). The text itself still parses back.
    r = std::string(body);
  }
  const auto again = wire::record::parse(*r);
  check(again.state == wire::status::ok, "an encoded record does not parse");
  check(again.value == top, "parse(encode(top)) != top");
  check(wire::record::encode(again.value) == text, "encode is not stable");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t piece = (data[0] & 0x3F) + 1u;
  const std::size_t limit = (data[0] & 0x40) ? 64 : wire::record::max_record;
  const std::string_view in = trend_fuzz::as_text(data + 1, size - 1);

  const split_result whole = split(in, in.size() + 1, limit);
  const split_result pieces = split(in, piece, limit);
  check(whole.records == pieces.records, "whole and in pieces give different records");
  check(whole.overflows == pieces.overflows, "whole and in pieces count different overflows");

  // The whole input as one record's text too (the receiver parses what the splitter gives).
  std::vector<std::string_view> texts(whole.records.begin(), whole.records.end());
  texts.push_back(in);
  for (const auto text : texts) {
    const auto top = wire::record::parse(text);
    if (top.state != wire::status::ok) {
      check(top.state == wire::status::bad && !top.error.message.empty(), "refused without a reason");
      continue;
    }
    check(top.consumed == text.size(), "a parsed record did not consume its text");
    check(top->labels.size() == top->counts.size(), "labels and counts differ in length");
    check_round_trip(top.value);
  }
  return 0;
}
