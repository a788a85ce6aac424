#pragma once
// The engine's durable state, as bytes: the write-ahead log of what was accepted and the
// snapshots that let the log be cut. No I/O in here (app/state_store.cpp does the files).
//
// Log segment file: "TRENDLOG" u32 version u64 first_lsn, then records. A record:
//   u32 body length | u32 checksum of the body (XXH3) | body = u8 type, u64 lsn, fields
//   tweet: u64 session (0: none), u64 frame number, bytes text   (one accepted tweet, in order)
//   slide: u32 count, i64 wall-clock ms of the slide              (the window moved on)
// Log sequence numbers (lsn) count records from 1 without gaps across segments.
//
// Snapshot file: "TRENDSNP" u32 version u64 lsn (the last record it covers) i64 slide wall ms,
// bytes settings (what the state was counted with), bytes sessions, bytes counter state,
// then u32 checksum of everything before it.
#include <cstdint>
#include <string>
#include <string_view>

#include "wire/result.hpp"

namespace engine::wal {

inline constexpr std::uint32_t version = 1;
inline constexpr std::string_view log_magic = "TRENDLOG";
inline constexpr std::string_view snapshot_magic = "TRENDSNP";
/// Bytes of a log segment's header.
inline constexpr std::size_t log_header_size = 8 + 4 + 8;
/// A record's body is at most this long (a tweet is at most 99,999 bytes).
inline constexpr std::uint32_t max_body = 1 << 20;

enum class record_type : std::uint8_t { tweet = 1, slide = 2 };

struct record {
  record_type type = record_type::tweet;
  std::uint64_t lsn = 0;
  std::uint64_t session = 0;     ///< tweet: the delivery session, 0 for none
  std::uint64_t frame = 0;       ///< tweet: its number in the session
  std::string_view text;         ///< tweet: the text (a view into the log bytes)
  std::uint32_t slides = 0;      ///< slide: how many
  std::int64_t wall_ms = 0;      ///< slide: when
};

/// The checksum of `bytes`: the low 32 bits of XXH3-64 (Debian's libxxhash).
std::uint32_t checksum(std::string_view bytes) noexcept;

/// A log segment's header for its first lsn.
std::string log_header(std::uint64_t first_lsn);
/// Reads a segment header: ok with the first lsn, bad when it is not one of ours or of another version.
wire::parsed<std::uint64_t> read_log_header(std::string_view in);

void append_tweet(std::string& out, std::uint64_t lsn, std::uint64_t session, std::uint64_t frame,
                  std::string_view text);
void append_slide(std::string& out, std::uint64_t lsn, std::uint32_t slides, std::int64_t wall_ms);

/// The record at the front of `in`. ok: consumed = its bytes; need_more: `in` ends inside it (a
/// torn tail); bad: a checksum or a field is wrong (the rest of the segment cannot be trusted).
wire::parsed<record> read_record(std::string_view in);

struct snapshot {
  std::uint64_t lsn = 0;           ///< the last log record the state includes
  std::int64_t slide_wall_ms = 0;  ///< when the current slot began (windows)
  std::string_view settings;       ///< describe_settings() of the engine that wrote it
  std::string_view sessions;       ///< delivery_sessions::save
  std::string_view state;          ///< the counter's save
};

std::string encode_snapshot(const snapshot& s);
/// bad when the file is cut, of another version, or its checksum does not match.
wire::parsed<snapshot> decode_snapshot(std::string_view file);

}  // namespace engine::wal
