// engine --kafka's internal records read from any bytes (a corrupt, foreign or hostile record in
// <group>-hashtags, <group>-tops or <group>-state): hashtag events and ticks, partial tops,
// manifests and snapshot chunks, and a counting partition's state. Each is refused or decodes to
// something that encodes back to the same bytes; nothing crashes or holds more than the input.
#include <cstddef>
#include <cstdint>
#include <string>

#include "check.hpp"
#include "engine/kafka.hpp"

using trend_fuzz::check;
namespace kafka = engine::kafka;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = trend_fuzz::as_text(data, size);
  if (const auto r = kafka::decode_hashtags_record(in)) {
    std::string again;
    if (r->is_tick) kafka::encode(r->time, again);
    else kafka::encode(r->event, again);
    check(again == in, "a hashtags record does not re-encode to its bytes");
  }
  if (const auto top = kafka::decode_partial_top(in)) {
    check(kafka::encode(*top) == in, "a partial top does not re-encode to its bytes");
    check(top->entries.size() <= in.size(), "a partial top holds more entries than bytes");
    kafka::top_merger merger;
    merger.reset(top->partition + 1 > 0 && top->partition < 64 ? top->partition + 1 : 1);
    (void)merger.update(*top);
    (void)merger.merged(10);
  }
  if (const auto m = kafka::decode_manifest(in)) {
    check(m->chunks >= 1 && m->chunks <= kafka::max_chunks, "a manifest outside the chunk bounds");
    // The input, cut as a snapshot of this generation, reassembles only when the manifest is its own.
    kafka::snapshot_assembler a(*m);
    const auto records = kafka::cut_snapshot(in, m->generation, m->covered_offset);
    for (const auto& c : records.chunks) a.take(c);
    if (const auto whole = a.result()) check(*whole == in, "a snapshot reassembled into other bytes");
  }
  // A counting partition's saved state, all-time and windowed: refused (and empty) or it saves back
  // to a state that restores again, and goes on counting.
  for (const bool windowed : {false, true}) {
    engine::config cfg;
    cfg.top = 3;
    if (windowed) {
      cfg.window = std::chrono::seconds(4);
      cfg.slide = std::chrono::seconds(2);
    }
    kafka::partition_counter c(cfg, 0);
    std::string why;
    if (c.restore(in, why)) {
      const std::string saved = c.save();
      kafka::partition_counter d(cfg, 0);
      check(d.restore(saved, why) && d.top() == c.top() && d.distinct() == c.distinct(), "a partition does not round-trip");
      std::string event;
      kafka::encode(kafka::hashtag_event{{}, 0, c.offset() + 1, 0, c.time_ms() + 1}, event);
      (void)c.apply(c.offset() + 1, "#after", event);
    } else {
      check(c.distinct() == 0, "a refused partition state left tags behind");
    }
    // The input as one hashtags record of this partition.
    (void)c.apply(c.offset() + 1, "#key", in);
  }
  return 0;
}
