#pragma once
// engine --kafka, the pure part (no librdkafka in here): the records of the internal topics, one
// counting partition's exact state, the merge of partial tops into the global top N, and the
// chunks of a snapshot. docs/scale-out.md tells the design; engine/app/kafka_engine.cpp does the I/O.
//
//   tweets --(repartition: each hashtag to partition murmur2(key) % P)--> <group>-hashtags
//   <group>-hashtags partition p --(partition_counter p)--> <group>-tops (p's whole top N, key p)
//   <group>-tops --(top_merger, one writer)--> the receiver, records in the original format
//   partition_counter p --(snapshots, every --checkpoint-interval)--> <group>-state partition p
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/counting.hpp"
#include "engine/options.hpp"
#include "engine/origin.hpp"
#include "wire/record.hpp"

namespace engine::kafka {

/// The internal topics of a group.
inline std::string hashtags_topic(const std::string& group) { return group + "-hashtags"; }
inline std::string tops_topic(const std::string& group) { return group + "-tops"; }
inline std::string state_topic(const std::string& group) { return group + "-state"; }

/// Kafka's default (Java) partitioner for a keyed record: murmur2(key) & 0x7fffffff, modulo
/// `partitions`. Any Kafka client puts the key where the engines count it.
std::int32_t partition_of(std::string_view key, std::int32_t partitions) noexcept;

// ---- <group>-hashtags records --------------------------------------------------------------

/// A hashtag event: its key is the record's key; this is the value. The origin says where the
/// tweet sits in the tweets topic (and its record timestamp: the event's time).
struct hashtag_event {
  std::string_view display;  ///< the spelling shown; empty when it is the key itself
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::uint32_t index = 0;   ///< the hashtag's place in the tweet, from 0
  std::int64_t timestamp_ms = 0;
};

/// A tick: the log time the sending repartitioner has reached, so that windows move on in every
/// counting partition, also those that get no hashtag (windowed counting only).
struct tick {
  std::int64_t timestamp_ms = 0;
};

/// Appends the value of a hashtag event / a tick.
void encode(const hashtag_event& e, std::string& out);
void encode(const tick& t, std::string& out);

/// One decoded <group>-hashtags value: an event (views into the value) or a tick.
struct hashtags_record {
  bool is_tick = false;
  hashtag_event event;
  tick time;
};
/// Decodes a value; nullopt when it is not one this version writes.
std::optional<hashtags_record> decode_hashtags_record(std::string_view value);

// ---- partial tops ----------------------------------------------------------------------------

struct top_entry {
  std::string display;
  std::int64_t number = 0;  ///< count or score
  origin first;             ///< first seen over the log: ties rank by it
  bool operator==(const top_entry&) const = default;
};

/// Counting partition `partition`'s whole top N once it had applied the hashtags records up to
/// `offset` (-1: none yet). Each replaces the one before for the same partition: a tag that left
/// the top N leaves the global merge too.
struct partial_top {
  std::int32_t partition = 0;
  std::int64_t offset = -1;
  std::vector<top_entry> entries;
  bool operator==(const partial_top&) const = default;
};

std::string encode(const partial_top& top);
std::optional<partial_top> decode_partial_top(std::string_view value);

/// The global top N from the newest partial top of every counting partition. Exact: a tag lives
/// in one partition, with its exact count, and the global top N is within the union of the
/// partitions' top N's.
class top_merger {
public:
  /// Expects `partitions` counting partitions; forgets every partial top.
  void reset(std::int32_t partitions);
  /// Keeps `top` if it is newer (by offset) than what is held for its partition; true if kept.
  bool update(partial_top top);
  /// True once every partition has reported (before that the merge would leave tags out).
  bool complete() const noexcept { return reported_ == tops_.size() && !tops_.empty(); }
  std::int32_t partitions() const noexcept { return static_cast<std::int32_t>(tops_.size()); }
  /// The global top `n`: number descending, then first seen over the log.
  wire::record::top_list merged(std::size_t n) const;

private:
  std::vector<std::optional<partial_top>> tops_;
  std::size_t reported_ = 0;
};

// ---- one counting partition ------------------------------------------------------------------

/// The exact state of counting partition `partition`: its hashtags' counts (all-time or windowed on
/// the log's time), its top N ranked by first seen over the log, and per source partition the last
/// event applied, so that events a repartitioner produced again after a crash count once.
class partition_counter {
public:
  partition_counter(const config& cfg, std::int32_t partition);

  enum class outcome { applied, duplicate, tick, bad };
  /// Applies the hashtags record at `offset` (records come in offset order) whose key is `key`.
  outcome apply(std::int64_t offset, std::string_view key, std::string_view value);
  /// Moves the log time on to `timestamp_ms` (windowed: the slides that fell due).
  void advance(std::int64_t timestamp_ms);

  /// True when the top N changed since clear_changed().
  bool changed() const noexcept { return state_.changed(); }
  void clear_changed() noexcept { state_.clear_changed(); }
  partial_top top() const;

  std::int32_t partition() const noexcept { return partition_; }
  /// The last hashtags offset applied (-1: none): the state covers the records up to it.
  std::int64_t offset() const noexcept { return offset_; }
  std::int64_t time_ms() const noexcept { return time_ms_; }
  std::uint64_t events() const noexcept { return state_.events(); }
  std::size_t distinct() const noexcept { return state_.distinct(); }
  std::size_t memory_bytes() const noexcept { return state_.memory_bytes(); }

  /// The whole state as bytes (the counts, the log time, the last event per source partition).
  std::string save() const;
  /// Replaces the state with saved bytes; false (`why` says why) leaves an empty state.
  bool restore(std::string_view bytes, std::string& why);

private:
  struct applied_upto {
    std::int64_t offset = -1;
    std::uint32_t index = 0;
  };
  const config* cfg_;
  std::string settings_;
  std::int32_t partition_;
  counting state_;
  std::int64_t offset_ = -1;
  std::int64_t time_ms_ = -1;   // the log time reached (-1: none yet)
  std::int64_t slot_ = -1;      // windowed: the slot of the log time (time / slide)
  std::int64_t slide_ms_ = 0;
  std::map<std::int32_t, applied_upto> applied_;
};

// ---- snapshots in <group>-state ----------------------------------------------------------------

/// Snapshots are cut into chunks (a Kafka record has a size limit) and closed by a manifest, the
/// record that makes the snapshot count. Chunks of generation g use the keys of slot g % 2, so the
/// chunks of the last complete snapshot are never overwritten by the next one, and a compacted
/// topic keeps at most two snapshots per partition.
struct manifest {
  std::uint64_t generation = 0;
  std::uint32_t chunks = 0;
  std::uint64_t bytes = 0;
  std::uint32_t crc = 0;            ///< checksum of the whole snapshot (wal::checksum: XXH3)
  std::int64_t covered_offset = -1;  ///< the hashtags offset the snapshot covers
  bool operator==(const manifest&) const = default;
};

/// Largest chunk value.
inline constexpr std::size_t chunk_bytes = 512 * 1024;
/// Most chunks of one snapshot (32 GiB, a partition of ~1 billion hashtags): a manifest that
/// claims more is refused, so a corrupt one cannot make the assembler reserve without bound.
inline constexpr std::uint32_t max_chunks = 1 << 16;

/// The key of manifest records and of chunk k of a generation.
std::string manifest_key(std::int32_t partition);
std::string chunk_key(std::int32_t partition, std::uint64_t generation, std::uint32_t k);

/// A snapshot's records: its chunks (value: generation, index, bytes) then its manifest.
struct snapshot_records {
  std::vector<std::string> chunks;
  std::string manifest;
};
snapshot_records cut_snapshot(std::string_view snapshot, std::uint64_t generation, std::int64_t covered_offset);

std::optional<manifest> decode_manifest(std::string_view value);

/// Reassembles a snapshot from the records of its partition: feed the manifest, then the records
/// that follow its chunks' first offset; done() once every chunk was seen.
class snapshot_assembler {
public:
  explicit snapshot_assembler(manifest m);
  /// Takes a chunk record's value (others of another generation are ignored).
  void take(std::string_view value);
  bool done() const noexcept { return seen_ == m_.chunks; }
  /// The snapshot, if complete and its checksum matches.
  std::optional<std::string> result() const;

private:
  manifest m_;
  std::vector<std::string> parts_;
  std::vector<bool> have_;
  std::uint32_t seen_ = 0;
};

}  // namespace engine::kafka
