// Unit tests of the lifecycle kit: HOST:PORT, back-off, stats lines, log escaping, timestamps.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "common/backoff.hpp"
#include "common/cli.hpp"
#include "common/duration.hpp"
#include "common/hostport.hpp"
#include "common/log.hpp"
#include "common/stats_line.hpp"
#include "common/time.hpp"

TEST_CASE("HOST:PORT parses, and bad ports are refused") {
  auto hp = common::parse_host_port("127.0.0.1:8002");
  REQUIRE(hp);
  CHECK(hp->host == "127.0.0.1");
  CHECK(hp->port == 8002);
  CHECK(common::parse_host_port("[::1]:7002")->host == "::1");
  CHECK(common::parse_host_port("localhost:0")->port == 0);
  CHECK_FALSE(common::parse_host_port("127.0.0.1"));
  CHECK_FALSE(common::parse_host_port("127.0.0.1:"));
  CHECK_FALSE(common::parse_host_port("127.0.0.1:65536"));
  CHECK_FALSE(common::parse_host_port("127.0.0.1:80x"));
  CHECK_FALSE(common::parse_host_port(":80"));
  CHECK_FALSE(common::parse_host_port("::1:80"));
}

TEST_CASE("HOST:PORT text reads back as the same address, IPv6 in brackets") {
  for (const common::host_port& hp : {common::host_port{"127.0.0.1", 8002}, common::host_port{"::1", 7002},
                                   common::host_port{"localhost", 0}}) {
    const auto text = common::to_string(hp);
    const auto back = common::parse_host_port(text);
    REQUIRE(back);
    CHECK(back->host == hp.host);
    CHECK(back->port == hp.port);
  }
  CHECK(common::to_string({"::1", 7002}) == "[::1]:7002");
}

TEST_CASE("back-off doubles up to its cap and resets") {
  using ms = std::chrono::milliseconds;
  common::backoff b(ms(100), ms(5000));
  std::vector<long> got;
  for (int k = 0; k < 8; ++k) got.push_back(static_cast<long>(b.next().count()));
  CHECK(got == std::vector<long>{100, 200, 400, 800, 1600, 3200, 5000, 5000});
  b.reset();
  CHECK(b.next() == ms(100));
}

TEST_CASE("a stats line is key=value pairs in the order added") {
  common::stats_line line;
  line.add("tweets", std::uint64_t{12}).add("open", std::size_t{0}).add("receiver", "connected").add("rate", 1234.56);
  CHECK(line.str() == "stats: tweets=12 open=0 receiver=connected rate=1235");
  CHECK(common::stats_line().add("ratio", 0.5, 2).str() == "stats: ratio=0.50");
}

TEST_CASE("escaped log text cannot break a line or send terminal escapes") {
  using common::log::escape;
  CHECK(escape("plain #tag") == "plain #tag");
  CHECK(escape("GET /a\nforged info: line") == "GET /a\\nforged info: line");
  CHECK(escape("a\nb\rc\td") == "a\\nb\\rc\\td");
  CHECK(escape("\x1b[31mred") == "\\x1b[31mred");
  CHECK(escape("caf\xc3\xa9 \xe6\x97\xa5") == "caf\xc3\xa9 \xe6\x97\xa5");  // printable UTF-8 stays
  CHECK(escape("\xc2\x85") == "\\xc2\\x85");                              // C1 control
  CHECK(escape("a\xe2\x80\xae" "b") == "a\\xe2\\x80\\xaeb");                  // right-to-left override
  CHECK(escape("bad \xff\xc3") == "bad \\xff\\xc3");
  CHECK(escape(std::string(10, 'a'), 4) == "aaaa...(10 bytes)");
}

TEST_CASE("log levels parse by name") {
  CHECK(common::log::parse_level("warn") == common::log::level::warn);
  CHECK_FALSE(common::log::parse_level("loud"));
}

TEST_CASE("ISO 8601 timestamps are UTC with milliseconds, empty for never") {
  CHECK(common::iso8601_utc(0).empty());
  CHECK(common::iso8601_utc(1764064800123) == "2025-11-25T10:00:00.123Z");
  CHECK(common::unix_ms() > 1764064800123);
}

TEST_CASE("the common flags parse, and --stats-interval 0 means none") {
  CLI::App app{"test"};
  common::cli::common_flags flags;
  common::host_port where{"127.0.0.1", 8002};
  common::cli::add_common_flags(app, flags);
  common::cli::add_address(app, "--listen", where, "where");
  const char* argv[] = {"test", "--stats-interval", "0", "--log-level", "debug", "--listen", "[::1]:7002"};
  CHECK_FALSE(common::cli::parse(app, 7, argv));
  CHECK(flags.stats_interval().count() == 0);
  CHECK(flags.level() == common::log::level::debug);
  CHECK(where.host == "::1");
  CHECK(where.port == 7002);
}

TEST_CASE("a bad address is a usage error") {
  CLI::App app{"test"};
  common::host_port where{"127.0.0.1", 8002};
  common::cli::add_address(app, "--listen", where, "where");
  const char* argv[] = {"test", "--listen", "nowhere"};
  CHECK(common::cli::parse(app, 3, argv) == 2);
}

TEST_CASE("durations take a unit: 500ms, 10s, 5m, 1h; a bare number other than 0 is refused") {
  using namespace std::chrono;
  using common::parse_duration;
  CHECK(parse_duration("500ms") == milliseconds(500));
  CHECK(parse_duration("10s") == seconds(10));
  CHECK(parse_duration("5m") == minutes(5));
  CHECK(parse_duration("1h") == hours(1));
  CHECK(parse_duration("1.5s") == milliseconds(1500));
  CHECK(parse_duration("0") == nanoseconds(0));
  for (const char* bad : {"", "5", "-1s", "5 m", "5min", "s", ".5s", "1e3s", "9999h"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_duration(bad));
  }
  CHECK(common::format_duration(minutes(5)) == "5m");
  CHECK(common::format_duration(milliseconds(1500)) == "1500ms");
  CHECK(common::format_duration(nanoseconds(0)) == "0");
}
