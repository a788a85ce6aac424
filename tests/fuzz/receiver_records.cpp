// socket_receiver::drain on any bytes, read in pieces of any size: it never throws, a record cut
// inside a string is held in bounded memory, and whatever came before, a valid record sent after
// a ';;' (as an engine writes it, "\n{...};;") is the one forwarded: garbage, stray quotes and
// cut labels cost only themselves. Byte 0 sets the read size and the splitter's limit.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "check.hpp"
#include "socket_receiver/records.hpp"

using trend_fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t piece = (data[0] & 0x3F) + 1u;
  const std::size_t limit = (data[0] & 0x40) ? 64 : wire::record::max_record;
  const wire::record::top_list anchor{{"#k;;k"}, {7}};
  // "\n;;": a ';' that ends the input must not make a separator with ours.
  const std::string stream = std::string(trend_fuzz::as_text(data + 1, size - 1)) + "\n;;\n" +
                             std::string(wire::record::encode(anchor)) + "\n";
  wire::record::splitter split(limit);
  socket_receiver::malformed_tally malformed;
  socket_receiver::cut_record cut;
  std::optional<wire::record::top_list> last;
  for (std::size_t at = 0; at < stream.size(); at += piece) {
    split.feed(std::string_view(stream).substr(at, piece));
    auto d = socket_receiver::drain(split, malformed, cut);
    check(d.valid <= 1 && d.valid + d.unparsed <= d.received + 1, "drain counted more records than it took");
    check(cut.text.size() <= wire::record::max_record, "a cut record held past the record limit");
    check(!cut.discarding || cut.text.empty(), "a discarded cut record kept its bytes");
    if (d.newest) last = std::move(d.newest);
  }
  check(last.has_value() && *last == anchor, "the valid record after the input was not the one forwarded");
  check(!cut.open, "a record left open after a valid record");
  return 0;
}
