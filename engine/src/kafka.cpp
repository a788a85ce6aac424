#include "engine/kafka.hpp"

#include "engine/wal.hpp"

#include <algorithm>
#include <tuple>

#include "engine/bytes.hpp"
#include "wire/utf8.hpp"

namespace engine::kafka {

namespace {

enum : std::uint8_t { tag_event = 1, tag_tick = 2, tag_manifest = 3, tag_chunk = 4, tag_top = 5, tag_state = 6 };

// Offsets and times are >= -1 on the wire: written as v + 1.
void put_from_minus_one(bytes_out& out, std::int64_t v) { out.varint(static_cast<std::uint64_t>(v + 1)); }
bool get_from_minus_one(bytes_in& in, std::int64_t& v) {
  std::uint64_t u = 0;
  if (!in.varint(u) || u > static_cast<std::uint64_t>(INT64_MAX)) return false;
  v = static_cast<std::int64_t>(u) - 1;
  return true;
}

std::uint32_t crc_of(std::string_view bytes) { return wal::checksum(bytes); }  // XXH3, as the log's records

}  // namespace

std::int32_t partition_of(std::string_view key, std::int32_t partitions) noexcept {
  // Kafka's Utils.murmur2 (32-bit arithmetic, seed 0x9747b28c), then toPositive() % partitions.
  const auto* data = reinterpret_cast<const unsigned char*>(key.data());
  const auto length = static_cast<std::uint32_t>(key.size());
  constexpr std::uint32_t m = 0x5bd1e995;
  std::uint32_t h = 0x9747b28cu ^ length;
  const std::uint32_t length4 = length / 4;
  for (std::uint32_t i = 0; i < length4; ++i) {
    const std::uint32_t i4 = i * 4;
    std::uint32_t k = data[i4] | (std::uint32_t{data[i4 + 1]} << 8) | (std::uint32_t{data[i4 + 2]} << 16) |
                      (std::uint32_t{data[i4 + 3]} << 24);
    k *= m;
    k ^= k >> 24;
    k *= m;
    h *= m;
    h ^= k;
  }
  const std::uint32_t tail = length & ~3u;
  switch (length % 4) {
    case 3: h ^= std::uint32_t{data[tail + 2]} << 16; [[fallthrough]];
    case 2: h ^= std::uint32_t{data[tail + 1]} << 8; [[fallthrough]];
    case 1:
      h ^= data[tail];
      h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  if (partitions <= 0) return 0;
  return static_cast<std::int32_t>((h & 0x7fffffffu) % static_cast<std::uint32_t>(partitions));
}

// ---- <group>-hashtags records --------------------------------------------------------------------

void encode(const hashtag_event& e, std::string& out) {
  bytes_out b(out);
  b.u8(tag_event);
  b.text(e.display);
  b.varint(static_cast<std::uint32_t>(e.partition));
  b.varint(static_cast<std::uint64_t>(e.offset));
  b.varint(e.index);
  b.u64(static_cast<std::uint64_t>(e.timestamp_ms));
}

void encode(const tick& t, std::string& out) {
  bytes_out b(out);
  b.u8(tag_tick);
  b.u64(static_cast<std::uint64_t>(t.timestamp_ms));
}

std::optional<hashtags_record> decode_hashtags_record(std::string_view value) {
  bytes_in in(value);
  std::uint8_t tag = 0;
  if (!in.u8(tag)) return std::nullopt;
  hashtags_record r;
  std::uint64_t ts = 0;
  if (tag == tag_tick) {
    if (!in.u64(ts) || in.left() != 0 || ts > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
    r.is_tick = true;
    r.time.timestamp_ms = static_cast<std::int64_t>(ts);
    return r;
  }
  std::uint64_t partition = 0, offset = 0, index = 0;
  if (tag != tag_event || !in.text(r.event.display) || !in.varint(partition) || !in.varint(offset) ||
      !in.varint(index) || !in.u64(ts) || in.left() != 0 || partition > INT32_MAX ||
      offset > static_cast<std::uint64_t>(INT64_MAX) || index > UINT32_MAX || ts > static_cast<std::uint64_t>(INT64_MAX))
    return std::nullopt;
  r.event.partition = static_cast<std::int32_t>(partition);
  r.event.offset = static_cast<std::int64_t>(offset);
  r.event.index = static_cast<std::uint32_t>(index);
  r.event.timestamp_ms = static_cast<std::int64_t>(ts);
  return r;
}

// ---- partial tops ----------------------------------------------------------------------------------

std::string encode(const partial_top& top) {
  std::string out;
  bytes_out b(out);
  b.u8(tag_top);
  b.varint(static_cast<std::uint32_t>(top.partition));
  put_from_minus_one(b, top.offset);
  b.varint(top.entries.size());
  for (const auto& e : top.entries) {
    b.text(e.display);
    b.varint(static_cast<std::uint64_t>(e.number));
    b.u64(e.first.hi);
    b.u64(e.first.lo);
  }
  return out;
}

std::optional<partial_top> decode_partial_top(std::string_view value) {
  bytes_in in(value);
  std::uint8_t tag = 0;
  std::uint64_t partition = 0, n = 0;
  partial_top t;
  if (!in.u8(tag) || tag != tag_top || !in.varint(partition) || partition > INT32_MAX ||
      !get_from_minus_one(in, t.offset) || !in.varint(n) || n > 100'000)
    return std::nullopt;
  t.partition = static_cast<std::int32_t>(partition);
  for (std::uint64_t k = 0; k < n; ++k) {
    std::string_view display;
    std::uint64_t number = 0;
    top_entry e;
    if (!in.text(display) || !in.varint(number) || number > static_cast<std::uint64_t>(INT64_MAX) ||
        !in.u64(e.first.hi) || !in.u64(e.first.lo) || !wire::utf8::valid(display))
      return std::nullopt;
    e.display.assign(display);
    e.number = static_cast<std::int64_t>(number);
    t.entries.push_back(std::move(e));
  }
  if (in.left() != 0) return std::nullopt;
  return t;
}

void top_merger::reset(std::int32_t partitions) {
  tops_.assign(static_cast<std::size_t>(std::max(partitions, 0)), std::nullopt);
  reported_ = 0;
}

bool top_merger::update(partial_top top) {
  if (top.partition < 0 || static_cast<std::size_t>(top.partition) >= tops_.size()) return false;
  auto& held = tops_[static_cast<std::size_t>(top.partition)];
  // Two owners of a partition at one offset hold the same state: the older offset is the stale one.
  if (held && held->offset >= top.offset) return false;
  if (!held) ++reported_;
  held = std::move(top);
  return true;
}

wire::record::top_list top_merger::merged(std::size_t n) const {
  std::vector<const top_entry*> all;
  for (const auto& t : tops_)
    if (t)
      for (const auto& e : t->entries) all.push_back(&e);
  auto ahead = [](const top_entry* a, const top_entry* b) {
    return std::tie(b->number, a->first, a->display) < std::tie(a->number, b->first, b->display);
  };
  const std::size_t k = std::min(n, all.size());
  std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(k), all.end(), ahead);
  wire::record::top_list out;
  for (std::size_t j = 0; j < k; ++j) {
    out.labels.push_back(all[j]->display);
    out.counts.push_back(all[j]->number);
  }
  return out;
}

// ---- one counting partition ----------------------------------------------------------------------

partition_counter::partition_counter(const config& cfg, std::int32_t partition)
    : cfg_(&cfg),
      settings_(describe_state_settings(cfg)),
      partition_(partition),
      state_(cfg, true),
      slide_ms_(std::max<std::int64_t>(1, std::chrono::duration_cast<std::chrono::milliseconds>(cfg.slide).count())) {}

void partition_counter::advance(std::int64_t timestamp_ms) {
  if (timestamp_ms < 0) timestamp_ms = 0;
  if (timestamp_ms <= time_ms_) return;
  time_ms_ = timestamp_ms;
  if (!state_.windowed()) return;
  const std::int64_t slot = timestamp_ms / slide_ms_;
  if (slot_ < 0) {
    slot_ = slot;
    return;
  }
  if (slot <= slot_) return;
  // A whole window and its predecessor's worth of slides empties the state: no more are needed.
  const auto slots = static_cast<std::int64_t>(window_settings(*cfg_).slots);
  const std::int64_t due = std::min<std::int64_t>(slot - slot_, 2 * slots + 1);
  for (std::int64_t k = 0; k < due; ++k) state_.slide();
  slot_ = slot;
}

partition_counter::outcome partition_counter::apply(std::int64_t offset, std::string_view key, std::string_view value) {
  offset_ = std::max(offset_, offset);
  const auto rec = decode_hashtags_record(value);
  if (!rec) return outcome::bad;
  if (rec->is_tick) {
    advance(rec->time.timestamp_ms);
    return outcome::tick;
  }
  const hashtag_event& e = rec->event;
  if (key.empty() || !wire::utf8::valid(key) || !wire::utf8::valid(e.display)) return outcome::bad;
  auto& upto = applied_[e.partition];
  // A repartitioner produces a source partition's events in order; after a crash its successor
  // produces again from the last committed tweet: what is not beyond the last applied is a copy.
  if (std::tie(e.offset, e.index) <= std::tie(upto.offset, upto.index)) return outcome::duplicate;
  upto = {e.offset, e.index};
  // Late events (a time before the current slot) count in the current slot, the same on any owner.
  advance(e.timestamp_ms);
  state_.add(key, e.display.empty() ? key : e.display, origin::of(e.timestamp_ms, e.partition, e.offset, e.index));
  return outcome::applied;
}

partial_top partition_counter::top() const {
  partial_top t;
  t.partition = partition_;
  t.offset = offset_;
  const auto list = state_.top();
  const auto origins = state_.top_origins();
  for (std::size_t k = 0; k < list.labels.size(); ++k)
    t.entries.push_back(top_entry{list.labels[k], list.counts[k], k < origins.size() ? origins[k] : origin{}});
  return t;
}

std::string partition_counter::save() const {
  std::string out;
  bytes_out b(out);
  b.u8(tag_state);
  b.text(settings_);
  b.varint(static_cast<std::uint32_t>(partition_));
  put_from_minus_one(b, offset_);
  put_from_minus_one(b, time_ms_);
  put_from_minus_one(b, slot_);
  b.varint(applied_.size());
  for (const auto& [source, upto] : applied_) {
    b.varint(static_cast<std::uint32_t>(source));
    put_from_minus_one(b, upto.offset);
    b.varint(upto.index);
  }
  b.raw(state_.save_with_origins());
  return out;
}

bool partition_counter::restore(std::string_view bytes, std::string& why) {
  bytes_in in(bytes);
  std::uint8_t tag = 0;
  std::string_view settings;
  std::uint64_t partition = 0, n = 0;
  std::int64_t offset = -1, time = -1, slot = -1;
  std::map<std::int32_t, applied_upto> applied;
  auto fail = [&](std::string reason) {
    why = std::move(reason);
    *this = partition_counter(*cfg_, partition_);
    return false;
  };
  if (!in.u8(tag) || tag != tag_state || !in.text(settings) || !in.varint(partition) ||
      !get_from_minus_one(in, offset) || !get_from_minus_one(in, time) || !get_from_minus_one(in, slot) ||
      !in.varint(n) || n > in.left())
    return fail("malformed");
  if (settings != settings_)
    return fail("it was counted with other settings (" + std::string(settings) + "; now " + settings_ + ")");
  if (partition != static_cast<std::uint64_t>(partition_)) return fail("it is partition " + std::to_string(partition) + "'s");
  for (std::uint64_t k = 0; k < n; ++k) {
    std::uint64_t source = 0, index = 0;
    std::int64_t upto = -1;
    if (!in.varint(source) || source > INT32_MAX || !get_from_minus_one(in, upto) || !in.varint(index) ||
        index > UINT32_MAX)
      return fail("malformed");
    applied[static_cast<std::int32_t>(source)] = {upto, static_cast<std::uint32_t>(index)};
  }
  if (!state_.restore_with_origins(in.rest(), why)) return fail("the counts do not restore (" + why + ")");
  offset_ = offset;
  time_ms_ = time;
  slot_ = slot;
  applied_ = std::move(applied);
  state_.clear_changed();
  return true;
}

// ---- snapshots ---------------------------------------------------------------------------------------

std::string manifest_key(std::int32_t partition) { return "p" + std::to_string(partition) + "/manifest"; }

std::string chunk_key(std::int32_t partition, std::uint64_t generation, std::uint32_t k) {
  return "p" + std::to_string(partition) + "/s" + std::to_string(generation % 2) + "/" + std::to_string(k);
}

snapshot_records cut_snapshot(std::string_view snapshot, std::uint64_t generation, std::int64_t covered_offset) {
  snapshot_records r;
  std::uint32_t k = 0;
  std::size_t at = 0;
  do {
    const std::size_t n = std::min(chunk_bytes, snapshot.size() - at);
    std::string value;
    bytes_out b(value);
    b.u8(tag_chunk);
    b.u64(generation);
    b.varint(k++);
    b.raw(snapshot.substr(at, n));
    r.chunks.push_back(std::move(value));
    at += n;
  } while (at < snapshot.size());
  bytes_out m(r.manifest);
  m.u8(tag_manifest);
  m.u64(generation);
  m.varint(k);
  m.varint(snapshot.size());
  m.u32(crc_of(snapshot));
  put_from_minus_one(m, covered_offset);
  return r;
}

std::optional<manifest> decode_manifest(std::string_view value) {
  bytes_in in(value);
  std::uint8_t tag = 0;
  std::uint64_t chunks = 0;
  manifest m;
  if (!in.u8(tag) || tag != tag_manifest || !in.u64(m.generation) || !in.varint(chunks) || chunks == 0 ||
      chunks > max_chunks || !in.varint(m.bytes) || !in.u32(m.crc) ||
      !get_from_minus_one(in, m.covered_offset) || in.left() != 0 || m.bytes > chunks * chunk_bytes)
    return std::nullopt;
  m.chunks = static_cast<std::uint32_t>(chunks);
  return m;
}

snapshot_assembler::snapshot_assembler(manifest m) : m_(m), parts_(m.chunks), have_(m.chunks, false) {}

void snapshot_assembler::take(std::string_view value) {
  bytes_in in(value);
  std::uint8_t tag = 0;
  std::uint64_t generation = 0, k = 0;
  if (!in.u8(tag) || tag != tag_chunk || !in.u64(generation) || generation != m_.generation || !in.varint(k) ||
      k >= m_.chunks || have_[k])
    return;
  parts_[k].assign(in.rest());
  have_[k] = true;
  ++seen_;
}

std::optional<std::string> snapshot_assembler::result() const {
  if (!done()) return std::nullopt;
  std::string out;
  out.reserve(m_.bytes);
  for (const auto& p : parts_) out += p;
  if (out.size() != m_.bytes || crc_of(out) != m_.crc) return std::nullopt;
  return out;
}

}  // namespace engine::kafka
