#include "engine/wal.hpp"

#include <xxhash.h>

#include <cstring>

#include "engine/bytes.hpp"

namespace engine::wal {

std::uint32_t checksum(std::string_view bytes) noexcept {
  // XXH3 (Debian's libxxhash): a record is checked on every write, so the check must cost little
  // next to the record itself (zlib's CRC-32 took as long as counting the tweet's hashtags).
  return static_cast<std::uint32_t>(XXH3_64bits(bytes.data(), bytes.size()));
}

std::string log_header(std::uint64_t first_lsn) {
  std::string out(log_magic);
  bytes_out b(out);
  b.u32(version);
  b.u64(first_lsn);
  return out;
}

wire::parsed<std::uint64_t> read_log_header(std::string_view in) {
  using out_t = wire::parsed<std::uint64_t>;
  if (in.size() < log_header_size) return out_t::bad(in.size(), "the segment is shorter than its header");
  if (in.substr(0, log_magic.size()) != log_magic) return out_t::bad(0, "not a log segment");
  bytes_in b(in.substr(log_magic.size()));
  std::uint32_t v = 0;
  std::uint64_t first = 0;
  b.u32(v);
  b.u64(first);
  if (v != version) return out_t::bad(8, "log format version " + std::to_string(v) + ", this engine reads " +
                                             std::to_string(version));
  return out_t::ok(first, log_header_size);
}

namespace {

std::size_t varint_size(std::uint64_t v) noexcept {
  std::size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// Little-endian stores into a buffer sized beforehand: a record is built in place, with no
// growth check per byte (the log is written for every tweet).
char* put(char* p, std::uint64_t v, std::size_t bytes) noexcept {
  for (std::size_t k = 0; k < bytes; ++k) *p++ = static_cast<char>((v >> (8 * k)) & 0xFF);
  return p;
}

char* put_varint(char* p, std::uint64_t v) noexcept {
  while (v >= 0x80) {
    *p++ = static_cast<char>((v & 0x7F) | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}

// Makes room for a record of `body` bytes at the end of `out`; returns where its body starts.
char* begin_record(std::string& out, std::size_t body) {
  const std::size_t at = out.size();
  out.resize(at + 8 + body);
  char* p = out.data() + at;
  put(p, body, 4);
  return p + 8;
}

// Writes the checksum of the body that starts at `body` into the 4 bytes before it.
void end_record(char* body, std::size_t size) noexcept { put(body - 4, checksum({body, size}), 4); }

}  // namespace

void append_tweet(std::string& out, std::uint64_t lsn, std::uint64_t session, std::uint64_t frame,
                  std::string_view text) {
  const std::size_t size = 1 + 8 + 8 + 8 + varint_size(text.size()) + text.size();
  char* const body = begin_record(out, size);
  char* p = body;
  *p++ = static_cast<char>(record_type::tweet);
  p = put(p, lsn, 8);
  p = put(p, session, 8);
  p = put(p, frame, 8);
  p = put_varint(p, text.size());
  if (!text.empty()) std::memcpy(p, text.data(), text.size());
  end_record(body, size);
}

void append_slide(std::string& out, std::uint64_t lsn, std::uint32_t slides, std::int64_t wall_ms) {
  const std::size_t size = 1 + 8 + 4 + 8;
  char* const body = begin_record(out, size);
  char* p = body;
  *p++ = static_cast<char>(record_type::slide);
  p = put(p, lsn, 8);
  p = put(p, slides, 4);
  put(p, static_cast<std::uint64_t>(wall_ms), 8);
  end_record(body, size);
}

wire::parsed<record> read_record(std::string_view in) {
  using out_t = wire::parsed<record>;
  if (in.size() < 8) return out_t::need_more();
  bytes_in head(in);
  std::uint32_t length = 0, crc = 0;
  head.u32(length);
  head.u32(crc);
  if (length > max_body) return out_t::bad(0, "a record claims " + std::to_string(length) + " bytes");
  if (in.size() < 8 + std::size_t{length}) return out_t::need_more();
  const std::string_view body = in.substr(8, length);
  if (checksum(body) != crc) return out_t::bad(0, "a record's checksum does not match");
  bytes_in b(body);
  record r;
  std::uint8_t type = 0;
  if (!b.u8(type) || !b.u64(r.lsn)) return out_t::bad(8, "a record is cut short");
  r.type = static_cast<record_type>(type);
  bool ok = false;
  if (r.type == record_type::tweet) {
    ok = b.u64(r.session) && b.u64(r.frame) && b.text(r.text, max_body);
  } else if (r.type == record_type::slide) {
    std::uint64_t wall = 0;
    ok = b.u32(r.slides) && b.u64(wall);
    r.wall_ms = static_cast<std::int64_t>(wall);
  } else {
    return out_t::bad(8, "a record of unknown type " + std::to_string(type));
  }
  if (!ok || b.left() != 0) return out_t::bad(8, "a record's fields do not fit its length");
  return out_t::ok(r, 8 + std::size_t{length});
}

std::string encode_snapshot(const snapshot& s) {
  std::string out(snapshot_magic);
  bytes_out b(out);
  b.u32(version);
  b.u64(s.lsn);
  b.u64(static_cast<std::uint64_t>(s.slide_wall_ms));
  b.text(s.settings);
  b.varint(s.sessions.size());
  b.raw(s.sessions);
  b.varint(s.state.size());
  b.raw(s.state);
  b.u32(checksum(out));
  return out;
}

wire::parsed<snapshot> decode_snapshot(std::string_view file) {
  using out_t = wire::parsed<snapshot>;
  if (file.size() < snapshot_magic.size() + 4 + 4) return out_t::bad(0, "the snapshot is cut short");
  if (file.substr(0, snapshot_magic.size()) != snapshot_magic) return out_t::bad(0, "not a snapshot");
  const std::string_view covered = file.substr(0, file.size() - 4);
  bytes_in tail(file.substr(file.size() - 4));
  std::uint32_t crc = 0;
  tail.u32(crc);
  if (checksum(covered) != crc) return out_t::bad(file.size() - 4, "the snapshot's checksum does not match");
  bytes_in b(covered.substr(snapshot_magic.size()));
  std::uint32_t v = 0;
  snapshot s;
  std::uint64_t wall = 0, sessions = 0, state = 0;
  if (!b.u32(v)) return out_t::bad(8, "the snapshot is cut short");
  if (v != version)
    return out_t::bad(8, "snapshot format version " + std::to_string(v) + ", this engine reads " + std::to_string(version));
  if (!b.u64(s.lsn) || !b.u64(wall) || !b.text(s.settings, 4096) || !b.varint(sessions) || !b.raw(s.sessions, sessions) ||
      !b.varint(state) || !b.raw(s.state, state) || b.left() != 0)
    return out_t::bad(8, "the snapshot's fields do not fit");
  s.slide_wall_ms = static_cast<std::int64_t>(wall);
  return out_t::ok(s, file.size());
}

}  // namespace engine::wal
