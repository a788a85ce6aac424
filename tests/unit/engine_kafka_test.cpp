// Unit tests of engine --kafka's pure part: the internal records, the partitioner, one counting
// partition (duplicates, log time, snapshots), the merge of partial tops into the exact global top N.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "engine/bytes.hpp"
#include "engine/kafka.hpp"
#include "engine/top_counter.hpp"
#include "engine/windowed_counter.hpp"

namespace {

using namespace engine;
using namespace engine::kafka;

config counting_config(std::size_t top = 10) {
  config cfg;
  cfg.top = top;
  return cfg;
}

config window_config(std::chrono::milliseconds window, std::chrono::milliseconds slide, std::size_t top = 10) {
  config cfg;
  cfg.top = top;
  cfg.window = window;
  cfg.slide = slide;
  return cfg;
}

std::string event_value(std::int32_t partition, std::int64_t offset, std::uint32_t index, std::int64_t ts,
                        std::string_view display = {}) {
  std::string out;
  encode(hashtag_event{display, partition, offset, index, ts}, out);
  return out;
}

std::string tick_value(std::int64_t ts) {
  std::string out;
  encode(tick{ts}, out);
  return out;
}

// One hashtag event as the repartitioner makes it.
struct event {
  std::string key;
  std::int32_t source;
  std::int64_t offset;
  std::uint32_t index;
  std::int64_t ts;
};

// The global top N by brute force: count descending, then the first event of the tag in
// (timestamp, partition, offset, index) order.
wire::record::top_list brute_top(const std::vector<event>& events, std::size_t n) {
  std::map<std::string, std::pair<std::int64_t, std::tuple<std::int64_t, std::int32_t, std::int64_t, std::uint32_t>>> tags;
  for (const auto& e : events) {
    auto at = std::make_tuple(e.ts, e.source, e.offset, e.index);
    auto [it, fresh] = tags.try_emplace(e.key, 0, at);
    ++it->second.first;
    it->second.second = std::min(it->second.second, at);
  }
  std::vector<std::string> keys;
  for (const auto& [k, v] : tags) keys.push_back(k);
  std::sort(keys.begin(), keys.end(), [&](const std::string& a, const std::string& b) {
    const auto& x = tags[a];
    const auto& y = tags[b];
    return x.first != y.first ? x.first > y.first : x.second < y.second;
  });
  wire::record::top_list out;
  for (std::size_t k = 0; k < std::min(n, keys.size()); ++k) {
    out.labels.push_back(keys[k]);
    out.counts.push_back(tags[keys[k]].first);
  }
  return out;
}

}  // namespace

TEST_CASE("the partitioner is Kafka's murmur2, as the Java client computes it") {
  // Kafka's own test vectors (Utils.murmur2), as toPositive(h) % partitions with a partition
  // count above every hash.
  const std::vector<std::pair<std::string, std::int32_t>> cases{
      {"21", -973932308},
      {"foobar", -790332482},
      {"a-little-bit-long-string", -985981536},
      {"a-little-bit-longer-string", -1486304829},
      {"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971},
      {"abc", 479470107}};
  for (const auto& [key, hash] : cases) {
    const auto positive = static_cast<std::int32_t>(static_cast<std::uint32_t>(hash) & 0x7fffffffu);
    CHECK(partition_of(key, INT32_MAX) == positive % INT32_MAX);
  }
  for (int k = 0; k < 1000; ++k) {
    const auto p = partition_of("#tag" + std::to_string(k), 12);
    CHECK(p >= 0);
    CHECK(p < 12);
  }
}

TEST_CASE("hashtag events and ticks round-trip, and every cut or altered value is refused") {
  const std::string value = event_value(3, 123456789, 7, 1'700'000'000'123, "#Café");
  const auto r = decode_hashtags_record(value);
  REQUIRE(r);
  CHECK_FALSE(r->is_tick);
  CHECK(r->event.display == "#Café");
  CHECK(r->event.partition == 3);
  CHECK(r->event.offset == 123456789);
  CHECK(r->event.index == 7);
  CHECK(r->event.timestamp_ms == 1'700'000'000'123);
  for (std::size_t n = 0; n < value.size(); ++n) CHECK_FALSE(decode_hashtags_record(value.substr(0, n)));
  CHECK_FALSE(decode_hashtags_record(value + "x"));
  const auto t = decode_hashtags_record(tick_value(42));
  REQUIRE(t);
  CHECK(t->is_tick);
  CHECK(t->time.timestamp_ms == 42);
  CHECK_FALSE(decode_hashtags_record("\x09garbage"));
}

TEST_CASE("partial tops round-trip") {
  partial_top top{4, 99, {{"#a", 10, origin::of(5, 1, 2, 3)}, {"#b", 9, origin::of(1, 0, 0, 0)}}};
  const std::string value = encode(top);
  const auto back = decode_partial_top(value);
  REQUIRE(back);
  CHECK(*back == top);
  for (std::size_t n = 0; n < value.size(); ++n) CHECK_FALSE(decode_partial_top(value.substr(0, n)));
  partial_top empty{0, -1, {}};
  CHECK(*decode_partial_top(encode(empty)) == empty);
}

TEST_CASE("the merge keeps the newest top of each partition: a tag that left a partition's top leaves the global one") {
  top_merger m;
  m.reset(2);
  CHECK(m.update({0, 5, {{"#old", 50, origin::of(1, 0, 0, 0)}}}));
  CHECK_FALSE(m.complete());
  CHECK(m.update({1, 3, {{"#b", 20, origin::of(2, 1, 0, 0)}}}));
  CHECK(m.complete());
  CHECK(m.merged(10).labels == std::vector<std::string>{"#old", "#b"});
  // Partition 0 moved on: #old is gone from its top (a window slid), so from the global one.
  CHECK(m.update({0, 9, {{"#new", 7, origin::of(3, 0, 9, 0)}}}));
  CHECK(m.merged(10).labels == std::vector<std::string>{"#b", "#new"});
  // A stale top (an earlier owner's, or a replay) does not come back.
  CHECK_FALSE(m.update({0, 6, {{"#old", 50, origin::of(1, 0, 0, 0)}}}));
  CHECK(m.merged(10).labels == std::vector<std::string>{"#b", "#new"});
  CHECK_FALSE(m.update({7, 1, {}}));  // no such partition
}

TEST_CASE("ties in the merge go to the tag first seen over the log, whatever its partition") {
  top_merger m;
  m.reset(3);
  m.update({0, 1, {{"#late", 5, origin::of(100, 0, 0, 0)}}});
  m.update({1, 1, {{"#early", 5, origin::of(99, 2, 7, 0)}}});
  m.update({2, 1, {{"#same-ms", 5, origin::of(100, 0, 0, 1)}, {"#more", 6, origin::of(500, 0, 0, 0)}}});
  const auto top = m.merged(3);
  CHECK(top.labels == std::vector<std::string>{"#more", "#early", "#late"});
  CHECK(top.counts == std::vector<std::int64_t>{6, 5, 5});
}

TEST_CASE("a counting partition skips the events a repartitioner produced again after a crash") {
  const config cfg = counting_config();
  partition_counter c(cfg, 0);
  std::int64_t at = 0;
  CHECK(c.apply(at++, "#a", event_value(1, 10, 0, 1000)) == partition_counter::outcome::applied);
  CHECK(c.apply(at++, "#b", event_value(1, 10, 1, 1000)) == partition_counter::outcome::applied);
  CHECK(c.apply(at++, "#a", event_value(2, 4, 0, 900)) == partition_counter::outcome::applied);
  // Source partition 1 again from offset 10 (its offsets were not committed before the crash).
  CHECK(c.apply(at++, "#a", event_value(1, 10, 0, 1000)) == partition_counter::outcome::duplicate);
  CHECK(c.apply(at++, "#b", event_value(1, 10, 1, 1000)) == partition_counter::outcome::duplicate);
  CHECK(c.apply(at++, "#a", event_value(1, 11, 0, 1001)) == partition_counter::outcome::applied);
  CHECK(c.apply(at++, "", event_value(1, 12, 0, 1001)) == partition_counter::outcome::bad);
  CHECK(c.apply(at++, "#x", "junk") == partition_counter::outcome::bad);
  CHECK(c.offset() == at - 1);
  const auto top = c.top();
  REQUIRE(top.entries.size() == 2);
  CHECK(top.entries[0].display == "#a");
  CHECK(top.entries[0].number == 3);
  CHECK(top.entries[0].first == origin::of(900, 2, 4, 0));  // the smallest origin, not the first applied
  CHECK(top.entries[1].number == 1);
}

TEST_CASE("partitions counted apart and merged give the exact global top N, with copies and restores") {
  // Random Zipf-like events from 3 source partitions, repartitioned to 4 counting partitions; each
  // repartitioner "crashes" now and then and produces a stretch again; counting partitions are
  // saved and restored (a new owner) at random. The merge must equal the brute-force top N.
  std::mt19937_64 rng(7);
  const config cfg = counting_config(5);
  constexpr std::int32_t sources = 3, partitions = 4;
  std::vector<event> truth;
  std::vector<std::vector<std::pair<std::string, std::string>>> logs(partitions);  // (key, value) per counting partition
  for (std::int32_t s = 0; s < sources; ++s) {
    std::vector<event> produced;
    std::int64_t ts = 1000 + s;
    for (std::int64_t offset = 0; offset < 400; ++offset) {
      ts += static_cast<std::int64_t>(rng() % 3);
      const auto tags = rng() % 3;
      for (std::uint32_t i = 0; i < tags; ++i) {
        const auto rank = 1 + static_cast<int>(std::pow(static_cast<double>(rng() % 1000) / 1000.0, 3) * 40);
        produced.push_back({"#t" + std::to_string(rank), s, offset, i, ts});
      }
    }
    truth.insert(truth.end(), produced.begin(), produced.end());
    for (std::size_t k = 0; k < produced.size(); ++k) {
      const auto& e = produced[k];
      logs[static_cast<std::size_t>(partition_of(e.key, partitions))].emplace_back(e.key, event_value(e.source, e.offset, e.index, e.ts));
      if (rng() % 50 == 0 && k > 10) {  // a crash: the successor starts again a few tweets back
        const std::size_t back = rng() % 10;
        for (std::size_t j = k - back; j <= k; ++j) {
          const auto& d = produced[j];
          logs[static_cast<std::size_t>(partition_of(d.key, partitions))].emplace_back(d.key, event_value(d.source, d.offset, d.index, d.ts));
        }
      }
    }
  }
  top_merger merger;
  merger.reset(partitions);
  for (std::int32_t p = 0; p < partitions; ++p) {
    auto c = std::make_unique<partition_counter>(cfg, p);
    const auto& log = logs[static_cast<std::size_t>(p)];
    for (std::size_t offset = 0; offset < log.size(); ++offset) {
      c->apply(static_cast<std::int64_t>(offset), log[offset].first, log[offset].second);
      if (rng() % 97 == 0) {  // a new owner restores the snapshot and goes on
        const std::string saved = c->save();
        c = std::make_unique<partition_counter>(cfg, p);
        std::string why;
        REQUIRE(c->restore(saved, why));
      }
    }
    merger.update(c->top());
  }
  REQUIRE(merger.complete());
  CHECK(merger.merged(5) == brute_top(truth, 5));
}

TEST_CASE("windows run on the log's time: ticks slide them, and a restored owner goes on identically") {
  const config cfg = window_config(std::chrono::milliseconds(4000), std::chrono::milliseconds(1000), 3);
  partition_counter a(cfg, 0);
  std::int64_t at = 0;
  a.apply(at++, "#a", event_value(0, 0, 0, 10'000));
  a.apply(at++, "#a", event_value(0, 1, 0, 10'500));
  a.apply(at++, "#b", event_value(0, 2, 0, 11'200));
  a.apply(at++, "#b", event_value(0, 3, 0, 12'000));
  a.apply(at++, "#b", event_value(0, 4, 0, 12'100));
  REQUIRE(a.top().entries.size() == 2);
  CHECK(a.top().entries[0].display == "#b");
  const std::string saved = a.save();
  partition_counter b(cfg, 0);
  std::string why;
  REQUIRE(b.restore(saved, why));
  // Slot 10 leaves the window at slot 14: #a expires; then #b's slots leave by slot 16.
  for (auto* c : {&a, &b}) {
    std::int64_t off = at;
    CHECK(c->apply(off++, "", tick_value(13'999)) == partition_counter::outcome::tick);
    CHECK(c->top().entries.size() == 2);
    c->apply(off++, "", tick_value(14'000));
    REQUIRE(c->top().entries.size() == 1);
    CHECK(c->top().entries[0].number == 3);
    c->apply(off++, "", tick_value(16'000));
    CHECK(c->top().entries.empty());
  }
  CHECK(a.save() == b.save());
  // A late event (before the current slot) counts in the current slot, the same on every owner.
  a.apply(at + 3, "#late", event_value(0, 5, 0, 9'000));
  CHECK(a.top().entries.size() == 1);
}

TEST_CASE("trend scores on windows: partitions counted apart, ticked and restored, merge to the one-partition top") {
  // The trending options on Kafka: each counting partition sees only its keys, and every tick of
  // the log time; the merged top must be what one partition holding every key shows, at all times.
  config cfg = window_config(std::chrono::milliseconds(6000), std::chrono::milliseconds(1000), 5);
  cfg.score = score_kind::trend;
  cfg.min_count = 2;
  constexpr std::int32_t partitions = 4;
  std::mt19937_64 rng(11);
  partition_counter whole(cfg, 0);
  std::vector<std::unique_ptr<partition_counter>> parts;
  std::vector<std::int64_t> next_offset(partitions, 0);
  for (std::int32_t p = 0; p < partitions; ++p) parts.push_back(std::make_unique<partition_counter>(cfg, p));
  std::int64_t whole_offset = 0, ts = 50'000;
  std::size_t compared = 0, nonempty = 0;
  for (std::int64_t offset = 0; offset < 3000; ++offset) {
    ts += static_cast<std::int64_t>(rng() % 25);
    // A burst: one tag much more frequent for a while, so that trend scores rise and fall.
    const int hot = static_cast<int>((ts / 7000) % 6);
    const auto tags = rng() % 3;
    for (std::uint32_t i = 0; i < tags; ++i) {
      const int rank = rng() % 3 == 0 ? hot : static_cast<int>(std::pow(static_cast<double>(rng() % 1000) / 1000.0, 2) * 30);
      const std::string key = "#t" + std::to_string(rank);
      const std::string value = event_value(0, offset, i, ts);
      whole.apply(whole_offset++, key, value);
      const auto p = partition_of(key, partitions);
      parts[static_cast<std::size_t>(p)]->apply(next_offset[static_cast<std::size_t>(p)]++, key, value);
    }
    if (offset % 10 == 9) {  // the repartitioner's tick to every counting partition
      whole.apply(whole_offset++, "", tick_value(ts));
      for (std::int32_t p = 0; p < partitions; ++p)
        parts[static_cast<std::size_t>(p)]->apply(next_offset[static_cast<std::size_t>(p)]++, "", tick_value(ts));
      if (rng() % 13 == 0) {  // a partition moves to a new owner, from its snapshot
        const auto p = static_cast<std::size_t>(rng() % partitions);
        const std::string saved = parts[p]->save();
        parts[p] = std::make_unique<partition_counter>(cfg, static_cast<std::int32_t>(p));
        std::string why;
        REQUIRE(parts[p]->restore(saved, why));
      }
      top_merger merger;
      merger.reset(partitions);
      for (const auto& c : parts) merger.update(c->top());
      REQUIRE(merger.complete());
      wire::record::top_list one;
      for (const auto& e : whole.top().entries) {
        one.labels.push_back(e.display);
        one.counts.push_back(e.number);
      }
      CHECK(merger.merged(5) == one);
      ++compared;
      nonempty += one.labels.empty() ? 0 : 1;
    }
  }
  CHECK(compared == 300);
  CHECK(nonempty > 100);  // the trend score did rank tags, most of the time
}

TEST_CASE("a snapshot of a counting partition refuses other settings and other partitions") {
  const config cfg = counting_config();
  partition_counter c(cfg, 2);
  c.apply(0, "#a", event_value(0, 0, 0, 1));
  const std::string saved = c.save();
  std::string why;
  partition_counter other_partition(cfg, 3);
  CHECK_FALSE(other_partition.restore(saved, why));
  const config windowed = window_config(std::chrono::milliseconds(1000), std::chrono::milliseconds(100));
  partition_counter other_settings(windowed, 2);
  CHECK_FALSE(other_settings.restore(saved, why));
  CHECK(why.find("other settings") != std::string::npos);
  for (std::size_t n = 0; n < saved.size(); ++n) {
    partition_counter cut(cfg, 2);
    CHECK_FALSE(cut.restore(saved.substr(0, n), why));
    CHECK(cut.events() == 0);
  }
}

TEST_CASE("a manifest over max_chunks and a partial top over 100,000 entries are refused before any allocation") {
  auto manifest_of = [](std::uint64_t chunks) {
    std::string value;
    bytes_out b(value);
    b.u8(3);  // a manifest
    b.u64(1);
    b.varint(chunks);
    b.varint(1);  // bytes
    b.u32(0);
    b.varint(0);  // covered offset -1
    return value;
  };
  CHECK(decode_manifest(manifest_of(max_chunks)));
  CHECK_FALSE(decode_manifest(manifest_of(max_chunks + 1)));
  CHECK_FALSE(decode_manifest(manifest_of(std::uint64_t{1} << 40)));
  auto top_of = [](std::uint64_t entries) {
    std::string value;
    bytes_out b(value);
    b.u8(5);  // a partial top
    b.varint(0);
    b.varint(0);
    b.varint(entries);
    for (std::uint64_t k = 0; k < std::min<std::uint64_t>(entries, 100'001); ++k) {
      b.text("#t");
      b.varint(1);
      b.u64(0);
      b.u64(k);
    }
    return value;
  };
  CHECK(decode_partial_top(top_of(100'000)));
  CHECK_FALSE(decode_partial_top(top_of(100'001)));
  CHECK_FALSE(decode_partial_top(top_of(std::uint64_t{1} << 50)));
}

TEST_CASE("snapshots are cut in chunks and put together again; a bad chunk is refused") {
  std::string big(3 * chunk_bytes + 17, '\0');
  for (std::size_t k = 0; k < big.size(); ++k) big[k] = static_cast<char>(k * 31 % 251);
  const auto records = cut_snapshot(big, 6, 1234);
  REQUIRE(records.chunks.size() == 4);
  const auto m = decode_manifest(records.manifest);
  REQUIRE(m);
  CHECK(m->generation == 6);
  CHECK(m->covered_offset == 1234);
  CHECK(chunk_key(1, 6, 0) != chunk_key(1, 7, 0));   // two generations never share keys
  CHECK(chunk_key(1, 6, 0) == chunk_key(1, 8, 0));   // compaction keeps one per slot
  snapshot_assembler parts(*m);
  parts.take(cut_snapshot("other generation", 5, 1).chunks[0]);
  for (auto it = records.chunks.rbegin(); it != records.chunks.rend(); ++it) parts.take(*it);
  REQUIRE(parts.done());
  CHECK(parts.result() == big);
  snapshot_assembler bad(*m);
  for (std::size_t k = 0; k < records.chunks.size(); ++k) {
    std::string chunk = records.chunks[k];
    if (k == 2) chunk.back() ^= 1;
    bad.take(chunk);
  }
  CHECK(bad.done());
  CHECK_FALSE(bad.result());
  const auto empty = cut_snapshot("", 1, -1);
  snapshot_assembler none(*decode_manifest(empty.manifest));
  none.take(empty.chunks[0]);
  CHECK(none.result() == std::string());
}

TEST_CASE("top_counter by origin: ties go to the smallest origin, and survive save and restore") {
  top_counter t(2, true);
  t.add("#b", "#b", origin::of(10, 0, 0, 0));
  t.add("#a", "#a", origin::of(20, 0, 0, 0));
  t.add("#a", "#a", origin::of(5, 1, 0, 0));  // an earlier occurrence, counted later
  t.add("#b", "#b", origin::of(11, 0, 0, 0));
  CHECK(t.top().labels == std::vector<std::string>{"#a", "#b"});
  std::string bytes;
  bytes_out out(bytes);
  t.save(out);
  t.save_origins(out);
  top_counter r(2, true);
  bytes_in in(bytes);
  REQUIRE(r.restore(in));
  REQUIRE(r.restore_origins(in));
  CHECK(r.top() == t.top());
  CHECK(r.top_origins() == t.top_origins());
}

TEST_CASE("windowed_counter by origin: ties by origin through forgetting, reused ids, save and restore") {
  window_options o;
  o.top = 3;
  o.slots = 2;
  o.by_origin = true;
  windowed_counter w(o);
  w.add("#old", "#old", origin::of(1, 0, 0, 0));
  w.slide();
  w.slide();  // #old leaves the window and the state: its id is free for the next new tag
  CHECK(w.distinct() == 0);
  w.add("#b", "#b", origin::of(10, 0, 0, 0));  // takes #old's id: its origin must be its own, not #old's
  w.add("#a", "#a", origin::of(20, 0, 0, 0));
  w.add("#a", "#a", origin::of(5, 1, 0, 0));   // an earlier occurrence over the log, counted later
  w.add("#b", "#b", origin::of(11, 0, 0, 0));
  w.add("#c", "#c", origin::of(7, 2, 0, 0));
  CHECK(w.top().labels == std::vector<std::string>{"#a", "#b", "#c"});
  CHECK(w.top_origins() == std::vector<origin>{origin::of(5, 1, 0, 0), origin::of(10, 0, 0, 0), origin::of(7, 2, 0, 0)});
  std::string bytes;
  bytes_out out(bytes);
  w.save(out);
  w.save_origins(out);
  windowed_counter r(o);
  bytes_in in(bytes);
  std::string why;
  REQUIRE(r.restore(in, why));
  REQUIRE(r.restore_origins(in));
  CHECK(in.left() == 0);
  CHECK(r.top() == w.top());
  CHECK(r.top_origins() == w.top_origins());
  // Both go on identically: a tie broken by origin after the restore.
  for (auto* c : {&w, &r}) c->add("#c", "#c", origin::of(30, 0, 0, 0));
  CHECK(r.top() == w.top());
  CHECK(r.top().labels == std::vector<std::string>{"#a", "#c", "#b"});  // #c (2, origin 7) before #b (2, origin 10)
}

TEST_CASE("--kafka, --topic, --group, --partitions, --kafka-option; --state-dir is refused with --kafka") {
  const char* const plain[] = {"engine"};
  CHECK(parse_options(1, plain).config->kafka.empty());
  const char* const argv[] = {"engine", "--kafka", "k:9092", "--topic", "t", "--group", "g", "--partitions", "24",
                              "--kafka-option", "session.timeout.ms=6000"};
  const auto parsed = parse_options(static_cast<int>(std::size(argv)), argv);
  REQUIRE(parsed.config);
  CHECK(parsed.config->kafka == "k:9092");
  CHECK(parsed.config->kafka_topic == "t");
  CHECK(parsed.config->kafka_group == "g");
  CHECK(parsed.config->kafka_partitions == 24);
  CHECK(parsed.config->kafka_options == std::vector<std::string>{"session.timeout.ms=6000"});
  const char* const with_dir[] = {"engine", "--kafka", "k:9092", "--state-dir", "/tmp/x"};
  CHECK(parse_options(5, with_dir).exit_code == 2);
  const char* const bad_option[] = {"engine", "--kafka", "k:9092", "--kafka-option", "=x"};
  CHECK(parse_options(5, bad_option).exit_code == 2);
  const char* const secret[] = {"engine", "--kafka", "k:9092", "--kafka-option", "ssl.key.password=hunter2"};
  CHECK(parse_options(5, secret).exit_code == 2);
  const char* const file[] = {"engine", "--kafka", "k:9092", "--kafka-config", "kafka.properties"};
  CHECK(parse_options(5, file).config->kafka_config == "kafka.properties");
}
