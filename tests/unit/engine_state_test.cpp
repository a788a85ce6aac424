// Unit tests of the engine's durable state as bytes: log records, segment headers, snapshots,
// torn and corrupt input, and the delivery sessions that make resends count once.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "engine/bytes.hpp"
#include "engine/delivery_sessions.hpp"
#include "engine/wal.hpp"

namespace wal = engine::wal;

TEST_CASE("varints are read in their one canonical form only, up to 2^64 - 1") {
  for (const std::uint64_t v : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{127}, std::uint64_t{128},
                                std::uint64_t{300}, std::uint64_t{1} << 35, ~std::uint64_t{0}}) {
    std::string bytes;
    engine::bytes_out(bytes).varint(v);
    engine::bytes_in in(bytes);
    std::uint64_t got = 0;
    CHECK(in.varint(got));
    CHECK(got == v);
    CHECK(in.left() == 0);
  }
  auto reads = [](std::string bytes) {
    engine::bytes_in in(bytes);
    std::uint64_t v = 0;
    return in.varint(v);
  };
  CHECK(reads(std::string("\x00", 1)));             // 0 itself is one zero byte
  CHECK_FALSE(reads(std::string("\x86\x00", 2)));   // 6, overlong: found by the kafka_records fuzz target
  CHECK_FALSE(reads(std::string("\x80\x80\x00", 3)));
  CHECK_FALSE(reads("\x80"));                        // cut
  CHECK_FALSE(reads(std::string(9, '\xff') + "\x02"));  // past 64 bits
}

TEST_CASE("log records read back in order, and a segment header names its first lsn") {
  std::string log = wal::log_header(41);
  wal::append_tweet(log, 41, 0xABCDEF, 7, "hello #world");
  wal::append_slide(log, 42, 3, 1764064800123);
  wal::append_tweet(log, 43, 0, 0, "");
  auto head = wal::read_log_header(log);
  REQUIRE(head);
  CHECK(*head == 41);
  std::string_view rest = std::string_view(log).substr(head.consumed);
  auto r = wal::read_record(rest);
  REQUIRE(r);
  CHECK(r->type == wal::record_type::tweet);
  CHECK(r->lsn == 41);
  CHECK(r->session == 0xABCDEF);
  CHECK(r->frame == 7);
  CHECK(r->text == "hello #world");
  rest.remove_prefix(r.consumed);
  r = wal::read_record(rest);
  REQUIRE(r);
  CHECK(r->type == wal::record_type::slide);
  CHECK(r->slides == 3);
  CHECK(r->wall_ms == 1764064800123);
  rest.remove_prefix(r.consumed);
  r = wal::read_record(rest);
  REQUIRE(r);
  CHECK(r->text.empty());
  CHECK(r.consumed == rest.size());
}

TEST_CASE("a torn record is need_more at every cut; a flipped byte is bad") {
  std::string rec;
  wal::append_tweet(rec, 1, 2, 3, "a tweet #with a tag");
  for (std::size_t cut = 0; cut < rec.size(); ++cut)
    CHECK(wal::read_record(std::string_view(rec).substr(0, cut)).state == wire::status::need_more);
  for (std::size_t at = 8; at < rec.size(); ++at) {
    std::string bad = rec;
    bad[at] = static_cast<char>(bad[at] ^ 0x20);
    CHECK(wal::read_record(bad).state == wire::status::bad);
  }
  std::string huge = rec;
  huge[3] = '\x7f';  // the length claims far more than a record may hold
  CHECK(wal::read_record(huge).state == wire::status::bad);
  CHECK_FALSE(wal::read_log_header("TRENDLOX" + wal::log_header(1).substr(8)));
}

TEST_CASE("a snapshot round-trips, and any cut or flipped byte is refused") {
  wal::snapshot s{77, 1764064800000, "all-time, count", "sessions-bytes", std::string_view("state\0bytes", 11)};
  const std::string file = wal::encode_snapshot(s);
  auto back = wal::decode_snapshot(file);
  REQUIRE(back);
  CHECK(back->lsn == 77);
  CHECK(back->slide_wall_ms == 1764064800000);
  CHECK(back->settings == "all-time, count");
  CHECK(back->sessions == "sessions-bytes");
  CHECK(back->state == std::string_view("state\0bytes", 11));
  for (std::size_t cut = 0; cut < file.size(); ++cut) CHECK_FALSE(wal::decode_snapshot(std::string_view(file).substr(0, cut)));
  for (std::size_t at = 0; at < file.size(); ++at) {
    std::string bad = file;
    bad[at] = static_cast<char>(bad[at] ^ 1);
    CHECK_FALSE(wal::decode_snapshot(bad));
  }
}

TEST_CASE("delivery sessions skip frames applied already and forget the least recent beyond the cap") {
  engine::delivery_sessions s;
  CHECK(s.apply(1, 1));
  CHECK(s.apply(1, 2));
  CHECK_FALSE(s.apply(1, 2));
  CHECK_FALSE(s.apply(1, 1));
  CHECK(s.apply(1, 5));  // a gap: frames 3 and 4 were dropped by the client before they were sent
  CHECK(s.applied(1) == 5);
  CHECK(s.applied(2) == 0);
  for (std::uint64_t k = 2; k <= engine::delivery_sessions::max_sessions + 1; ++k) s.apply(k, 1);
  CHECK(s.size() == engine::delivery_sessions::max_sessions);
  CHECK(s.applied(1) == 0);  // the oldest went
  CHECK(s.applied(2) == 1);
  std::string saved;
  engine::bytes_out out(saved);
  s.save(out);
  engine::delivery_sessions t;
  engine::bytes_in in(saved);
  REQUIRE(t.restore(in));
  CHECK(t.size() == s.size());
  CHECK(t.applied(3) == 1);
  CHECK_FALSE(t.apply(3, 1));
  t.apply(engine::delivery_sessions::max_sessions + 5, 1);  // the least recent (2) goes, as in s
  CHECK(t.applied(2) == 0);
}
