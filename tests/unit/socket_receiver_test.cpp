// Unit tests of socket_receiver's logic: records out of a cut stream, the latest-wins slot,
// the form body the original receiver posts, the malformed tally, the options, the stats line.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <algorithm>
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "fragments.hpp"
#include "socket_receiver/latest_slot.hpp"
#include "socket_receiver/options.hpp"
#include "socket_receiver/records.hpp"
#include "socket_receiver/stats.hpp"
#include "wire/record.hpp"

using namespace std::chrono_literals;
using steady = socket_receiver::clock;
using socket_receiver::outcome;
using trend_test::for_each_fragment;
using trend_test::fragment_sizes;

namespace {

const std::string py3_record = "{'label': \"['#world', '#cpp']\", 'data': '[1, 1]'};;\n";
const std::string py3_cafe = "{'label': '[\\'#cpp\\', \\'#world\\', \\'#caf\xc3\xa9\\', \"#it\\'s\"]', 'data': '[2, 1, 1, 1]'};;\n";
const std::string py2_record = "{'data': '[3, 1, 2]', 'label': '[\\'#foo\\', \\'#caf\\\\xc3\\\\xa9\\', \"#it\\'s\"]'};;\n";

struct run {
  std::uint64_t received = 0, valid = 0, unparsed = 0;
  std::vector<wire::record::top_list> newest;  // the newest of each read
  std::vector<std::string> kinds;
  std::size_t overflows = 0;
  std::size_t held_peak = 0;  // the most bytes held for a record cut inside a string
  std::string held_at_end;
};

run feed_all(std::string_view stream, std::size_t piece, std::size_t limit = wire::record::max_record) {
  wire::record::splitter split(limit);
  socket_receiver::malformed_tally tally;
  socket_receiver::cut_record cut;
  run r;
  for_each_fragment(stream, piece, [&](std::string_view bytes) {
    split.feed(bytes);
    auto d = socket_receiver::drain(split, tally, cut);
    r.received += d.received;
    r.valid += d.valid;
    r.unparsed += d.unparsed;
    if (d.newest) r.newest.push_back(*d.newest);
    r.kinds.insert(r.kinds.end(), d.new_kinds.begin(), d.new_kinds.end());
    r.held_peak = std::max(r.held_peak, cut.text.size());
  });
  r.overflows = split.overflows();
  r.held_at_end = cut.open ? cut.text + "(open)" : std::string();
  return r;
}

const auto t0 = steady::time_point{} + 1h;

}  // namespace

// ---- records out of the stream ------------------------------------------------------------

TEST_CASE("records cut into pieces of any size come out whole, the newest last") {
  const std::string stream = py3_record + py3_cafe + py2_record;
  for (auto size : fragment_sizes) {
    CAPTURE(size);
    auto r = feed_all(stream, size);
    CHECK(r.received == 3);
    CHECK(r.valid + r.unparsed == 3);  // all valid; those superseded within one read go unparsed
    CHECK(r.kinds.empty());
    REQUIRE_FALSE(r.newest.empty());
    CHECK(r.newest.back().labels == std::vector<std::string>{"#foo", "#caf\xc3\xa9", "#it's"});
    CHECK(r.newest.back().counts == std::vector<std::int64_t>{3, 1, 2});
  }
}

TEST_CASE("a read holding several records keeps only the newest valid one, parsing newest first") {
  wire::record::splitter split;
  socket_receiver::malformed_tally tally;
  split.feed(py3_record + py3_cafe + "garbage;;");
  socket_receiver::cut_record cut;
  auto d = socket_receiver::drain(split, tally, cut);
  CHECK(d.received == 3);
  CHECK(d.valid == 1);
  CHECK(d.unparsed == 1);  // py3_record: superseded by py3_cafe, never parsed
  REQUIRE(d.newest);
  CHECK(d.newest->labels.size() == 4);
  CHECK(d.new_kinds.size() == 1);  // the garbage after the newest valid record is counted
  CHECK(tally.total() == 1);
}

TEST_CASE("a malformed record is skipped and the next one still arrives") {
  const std::string bad = "{'label': \"['#a']\", 'data': '[1, 2]'};;\n{'nope';;\n";
  for (auto size : fragment_sizes) {
    CAPTURE(size);
    auto r = feed_all(bad, size);  // nothing valid after them: each is parsed and counted
    CHECK(r.received == 2);
    CHECK(r.valid == 0);
    CHECK(r.kinds.size() == 2);  // two different kinds: length mismatch, syntax
    CHECK(r.newest.empty());
    auto after = feed_all(bad + py3_record, size);
    REQUIRE_FALSE(after.newest.empty());
    CHECK(after.newest.back().labels == std::vector<std::string>{"#world", "#cpp"});
  }
}

// The original's rule takes any word starting with '#' for a hashtag, so "#a;;b" is one, and the
// engine writes it as the original did: the ';;' framing cuts that record in pieces.
TEST_CASE("a record whose label holds ';;' is joined again from its pieces, in reads of any size") {
  wire::record::top_list top{{"#a;;b", "#x", "#c;;;;d;;"}, {3, 2, 1}};
  const std::string cut = wire::record::encode(top);
  CHECK(cut == "{'label': \"['#a;;b', '#x', '#c;;;;d;;']\", 'data': '[3, 2, 1]'};;\n");
  for (auto size : fragment_sizes) {
    CAPTURE(size);
    for (const std::string& stream : {cut, py3_record + cut, cut + py3_cafe, py3_record + cut + cut}) {
      auto r = feed_all(stream, size);
      CHECK(r.kinds.empty());
      CHECK(r.held_at_end.empty());
      REQUIRE_FALSE(r.newest.empty());
      if (stream.ends_with(py3_cafe)) CHECK(r.newest.back().counts == std::vector<std::int64_t>{2, 1, 1, 1});
      else CHECK(r.newest.back() == top);
      for (const auto& each : r.newest) CHECK((each == top || each.labels.size() == 2 || each.labels.size() == 4));
    }
  }
}

TEST_CASE("a piece of a hostile label that looks like a record never passes for one") {
  // A hashtag carrying an empty top-10 between two ';;' (quotes " only: repr leaves them raw).
  wire::record::top_list top{{"#a;;{\"label\":\"[]\",\"data\":\"[]\"};;", "#x"}, {5, 1}};
  const std::string stream = wire::record::encode(top);
  REQUIRE(stream.find(";;{\"label\":\"[]\",\"data\":\"[]\"};;") != std::string::npos);
  REQUIRE(wire::record::parse("{\"label\":\"[]\",\"data\":\"[]\"}"));  // on its own it is a record
  for (auto size : fragment_sizes) {
    CAPTURE(size);
    for (const std::string& s : {stream, py3_record + stream, stream + stream}) {
      auto r = feed_all(s, size);
      CHECK(r.kinds.empty());
      REQUIRE_FALSE(r.newest.empty());
      for (const auto& each : r.newest) CHECK_FALSE(each.labels.empty());  // never the injected empty top
      CHECK(r.newest.back() == top);
    }
  }
}

TEST_CASE("a record cut inside a string that never ends is dropped at the record limit, and the stream goes on") {
  std::string stream = "{'label': \"['#a";
  while (stream.size() < wire::record::max_record + 1000) stream += ";;xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
  for (auto size : {std::size_t{0}, std::size_t{4096}}) {
    CAPTURE(size);
    // Nothing valid after it: counted as malformed once, in bounded memory.
    auto alone = feed_all(stream + ";;", size);
    CHECK(alone.held_peak <= wire::record::max_record);
    CHECK(alone.kinds.size() == 1);
    CHECK(alone.newest.empty());
    // A valid record after it: the stream goes on (the cut one counted, or superseded in the same read).
    auto r = feed_all(stream + ";;\n" + py3_record, size);
    CHECK(r.held_peak <= wire::record::max_record);
    CHECK(r.kinds.size() <= 1);
    REQUIRE_FALSE(r.newest.empty());
    CHECK(r.newest.back().labels == std::vector<std::string>{"#world", "#cpp"});
    CHECK(r.held_at_end.empty());
  }
  // Garbage with a quote that is not a record's start is not held: the next record arrives.
  auto r = feed_all("it's;;\n" + py3_record, 0);
  CHECK(r.held_peak == 0);
  REQUIRE(r.newest.size() == 1);
  CHECK(r.unparsed == 1);  // superseded by the valid record after it
  // A record start with a stray quote opens a string that never closes: the next record, which
  // starts with the newline the engine writes after ';;', puts the stream in step again.
  for (auto size : fragment_sizes) {
    CAPTURE(size);
    auto stray = feed_all("{'oops;;\n" + py3_record + py3_cafe, size);
    CHECK(stray.kinds.size() <= 1);  // superseded unparsed when the read holds the records after it
    REQUIRE_FALSE(stray.newest.empty());
    CHECK(stray.newest.back().counts == std::vector<std::int64_t>{2, 1, 1, 1});
    CHECK(stray.held_at_end.empty());
    // Records without the newline (a hand-written stream) take the careful path in every read.
    auto plain = feed_all("{'oops;;\n" + py3_record + "{'nope';;", size);
    CHECK(plain.kinds.size() >= 1);  // the syntax error, and the cut record unless a newer one superseded it
    REQUIRE_FALSE(plain.newest.empty());
    CHECK(plain.newest.back().labels == std::vector<std::string>{"#world", "#cpp"});
    auto glued = feed_all("{'label': \"['#a']\", 'data': '[1]'};;{'label': \"['#b;;c']\", 'data': '[2]'};;", size);
    CHECK(glued.kinds.empty());
    REQUIRE_FALSE(glued.newest.empty());
    CHECK(glued.newest.back().labels == std::vector<std::string>{"#b;;c"});
  }
}

TEST_CASE("the quote scan follows Python string literals, their escapes, across pieces") {
  auto inside = [](std::initializer_list<std::string_view> pieces) {
    socket_receiver::quote_state q;
    for (auto piece : pieces) q.scan(piece);
    return q.inside();
  };
  CHECK(inside({"{'label': \"['#a"}));
  CHECK(inside({"{'label': '[\\'#a"}));
  CHECK(inside({"{'a\\"}));  // a backslash at the end escapes what comes next
  CHECK_FALSE(inside({"{'a\\", "''"}));
  CHECK_FALSE(inside({"{'nope'"}));
  CHECK_FALSE(inside({"{'label': \"['#a", ";;", "b']\", 'data': '[1]'}"}));
  CHECK_FALSE(inside({"{\"it's\"}"}));
  CHECK_FALSE(inside({""}));
}

TEST_CASE("a stream without separator past the limit is cut and resynchronised on the next separator") {
  const std::string junk(300, 'x');
  for (auto size : fragment_sizes) {
    CAPTURE(size);
    auto r = feed_all(py3_record + junk + ";;\n" + py3_cafe, size, 100);
    CHECK(r.overflows == 1);
    CHECK(r.valid + r.unparsed == 2);
    REQUIRE_FALSE(r.newest.empty());
    CHECK(r.newest.back().counts == std::vector<std::int64_t>{2, 1, 1, 1});
  }
}

TEST_CASE("the malformed tally logs each kind once and keeps memory bounded") {
  socket_receiver::malformed_tally tally;
  CHECK(tally.note("bad a"));
  CHECK_FALSE(tally.note("bad a"));
  CHECK(tally.note("bad b"));
  CHECK(tally.count("bad a") == 2);
  for (int i = 0; i < 200; ++i) tally.note("kind " + std::to_string(i));
  CHECK(tally.total() == 203);
  CHECK(tally.count("other") > 0);
  CHECK_FALSE(tally.note("yet another kind"));  // "other" already logged
}

// ---- latest wins ----------------------------------------------------------------------------

TEST_CASE("an idle slot hands the first record over at once") {
  socket_receiver::latest_slot slot;
  CHECK_FALSE(slot.take(t0));
  CHECK_FALSE(slot.offer("a"));
  CHECK(slot.ready_at() == steady::time_point{});
  CHECK(slot.take(t0) == "a");
  CHECK(slot.in_flight());
  CHECK_FALSE(slot.done(outcome::delivered, t0));
  CHECK(slot.forwarded() == 1);
  CHECK_FALSE(slot.waiting());
}

TEST_CASE("while a POST is in flight newer records replace the waiting one") {
  socket_receiver::latest_slot slot;
  slot.offer("1");
  REQUIRE(slot.take(t0) == "1");
  CHECK_FALSE(slot.offer("2"));
  CHECK(slot.offer("3"));
  CHECK(slot.offer("4"));
  CHECK_FALSE(slot.take(t0));  // one POST at a time
  CHECK_FALSE(slot.ready_at());
  slot.done(outcome::delivered, t0);
  CHECK(slot.take(t0) == "4");
  slot.done(outcome::delivered, t0);
  CHECK(slot.forwarded() == 2);
  CHECK(slot.superseded() == 2);
}

TEST_CASE("a failed POST is retried after a back-off doubling from 100 ms to 2 s") {
  socket_receiver::latest_slot slot;
  slot.offer("a");
  auto now = t0;
  std::vector<steady::duration> delays;
  for (int i = 0; i < 7; ++i) {
    auto body = slot.take(now);
    REQUIRE(body == "a");
    auto delay = slot.done(outcome::failed, now);
    REQUIRE(delay);
    delays.push_back(*delay);
    CHECK_FALSE(slot.take(now + *delay - 1ms));  // not before the delay
    CHECK(slot.ready_at() == now + *delay);
    now += *delay;
  }
  CHECK(delays == std::vector<steady::duration>{100ms, 200ms, 400ms, 800ms, 1600ms, 2s, 2s});
  CHECK(slot.failures() == 7);
  CHECK(slot.failing_streak() == 7);
  REQUIRE(slot.take(now) == "a");
  slot.done(outcome::delivered, now);
  CHECK(slot.failing_streak() == 0);
  slot.offer("b");  // back-off reset by the success: no delay now
  CHECK(slot.take(now) == "b");
}

TEST_CASE("when the dashboard returns the newest record is delivered, not the failed one") {
  socket_receiver::latest_slot slot;
  slot.offer("old");
  REQUIRE(slot.take(t0) == "old");
  slot.offer("newer");
  auto delay = slot.done(outcome::failed, t0);
  REQUIRE(delay);
  slot.offer("newest");
  CHECK(slot.take(t0 + *delay) == "newest");
  slot.done(outcome::delivered, t0 + *delay);
  CHECK(slot.superseded() == 2);  // "old" dropped after failing, "newer" replaced while waiting
  CHECK(slot.forwarded() == 1);
}

TEST_CASE("a rejected record is dropped, not retried") {
  socket_receiver::latest_slot slot;
  slot.offer("bad");
  REQUIRE(slot.take(t0));
  CHECK_FALSE(slot.done(outcome::rejected, t0));
  CHECK_FALSE(slot.waiting());
  CHECK(slot.rejected() == 1);
}

TEST_CASE("HTTP statuses are classified as delivered, rejected or failed") {
  CHECK(socket_receiver::classify(201) == outcome::delivered);
  CHECK(socket_receiver::classify(200) == outcome::delivered);
  CHECK(socket_receiver::classify(400) == outcome::rejected);
  CHECK(socket_receiver::classify(413) == outcome::rejected);
  CHECK(socket_receiver::classify(429) == outcome::failed);
  CHECK(socket_receiver::classify(503) == outcome::failed);
  CHECK(socket_receiver::classify(0) == outcome::failed);
  CHECK(socket_receiver::classify(302) == outcome::failed);
}

// ---- the form body --------------------------------------------------------------------------

TEST_CASE("the form body is what Python requests posts for the record's dict") {
  // urllib.parse.urlencode({'label': "['#world', '#cpp']", 'data': '[1, 1]'})
  CHECK(socket_receiver::form_body({{"#world", "#cpp"}, {1, 1}}) ==
        "label=%5B%27%23world%27%2C+%27%23cpp%27%5D&data=%5B1%2C+1%5D");
}

TEST_CASE("the form body carries canonical Python 3 literals whatever the record's dialect") {
  // urlencode({'label': str(['#café', "#it's", '#a\u200db', 'x y~_.-']), 'data': '[3, 2, 1, 1]'})
  CHECK(socket_receiver::form_body({{"#caf\xc3\xa9", "#it's", "#a\xe2\x80\x8d" "b", "x y~_.-"}, {3, 2, 1, 1}}) ==
        "label=%5B%27%23caf%C3%A9%27%2C+%22%23it%27s%22%2C+%27%23a%5Cu200db%27%2C+%27x+y~_.-%27%5D"
        "&data=%5B3%2C+2%2C+1%2C+1%5D");
  auto py2 = wire::record::parse(py2_record.substr(0, py2_record.size() - 3));
  REQUIRE(py2);
  CHECK(socket_receiver::form_body(*py2) ==
        "label=%5B%27%23foo%27%2C+%27%23caf%C3%A9%27%2C+%22%23it%27s%22%5D&data=%5B3%2C+1%2C+2%5D");
}

TEST_CASE("an empty top list is posted as two empty lists") {
  CHECK(socket_receiver::form_body({}) == "label=%5B%5D&data=%5B%5D");
}

TEST_CASE("the stats line names every counter, in the common stats format") {
  socket_receiver::stats s;
  s.received = 5;
  s.forwarded = 2;
  s.superseded = 3;
  s.overflows = 1;
  CHECK(socket_receiver::stats_line(s) ==
        "stats: connections=0 received=5 forwarded=2 superseded=3 malformed=0 overflows=1 rejected=0 failed_attempts=0");
}

// ---- malformed records and leftovers --------------------------------------------------------

TEST_CASE("a record holding invalid UTF-8 is malformed, and the next record still arrives") {
  // \xf7\xbf\xbf\xbf would decode to U+1FFFFF, beyond Unicode; the dashboard cannot take it.
  const std::string bad = "{'label': \"['#a\xf7\xbf\xbf\xbf']\", 'data': '[1]'};;\n";
  for (auto size : fragment_sizes) {
    CAPTURE(size);
    auto r = feed_all(bad, size);
    CHECK(r.received == 1);
    CHECK(r.newest.empty());
    REQUIRE(r.kinds.size() == 1);
    CHECK(r.kinds[0].rfind("invalid UTF-8 at byte 15 of a 38-byte record: ", 0) == 0);
    CHECK(r.kinds[0].find("#a\\xf7\\xbf\\xbf\\xbf") != std::string::npos);  // shown escaped
    auto after = feed_all(bad + py3_record, size);
    REQUIRE_FALSE(after.newest.empty());
    CHECK(after.newest.back().labels == std::vector<std::string>{"#world", "#cpp"});
  }
}

TEST_CASE("what a malformed record shows of itself is escaped and bounded") {
  const std::string text = "\n{'label': \"['#a']\x1b[31m\nFAKE LOG LINE\", 'data': '[1]'}";
  const auto shown = socket_receiver::describe_malformed(text, {11, "a reason"});
  CHECK(shown == "a reason at byte 11 of a 54-byte record: {'label': \"['#a']\\x1b[31m\\nFAKE LOG LINE\", 'data': '[1]'}");
  CHECK(shown.find('\n') == std::string::npos);
  CHECK(shown.find('\x1b') == std::string::npos);

  const std::string long_text = "{'label': \"[" + std::string(1000, 'x') + "\x01" + std::string(1000, 'y');
  const auto window = socket_receiver::describe_malformed(long_text, {1012, "bad"});
  CHECK(window.rfind("bad at byte 1012 of a 2013-byte record: ..." + std::string(40, 'x') + "\\x01yyy", 0) == 0);
  CHECK(window.substr(window.size() - 4) == "y...");
  CHECK(window.size() < 200);
}

TEST_CASE("white space after the last record is no unfinished record, anything else is") {
  CHECK_FALSE(socket_receiver::unfinished(""));
  CHECK_FALSE(socket_receiver::unfinished("\n"));
  CHECK_FALSE(socket_receiver::unfinished(" \r\n\t"));
  CHECK(socket_receiver::unfinished("\n{'label'"));
  CHECK(socket_receiver::unfinished(";"));

  wire::record::splitter split;  // what the splitter leaves after a whole record and its "\n"
  split.feed(py3_record);
  while (split.next()) {
  }
  CHECK(split.pending_bytes() == "\n");
  CHECK_FALSE(socket_receiver::unfinished(split.pending_bytes()));
  split.feed("{'label': \"['#cut");
  CHECK(socket_receiver::unfinished(split.pending_bytes()));
}

// ---- options ----------------------------------------------------------------------------------

namespace {
template <std::size_t N>
common::cli::outcome<socket_receiver::config> parse(const char* const (&argv)[N]) {
  return socket_receiver::parse_options(static_cast<int>(N), argv);
}
}  // namespace

TEST_CASE("with no options the receiver listens on 127.0.0.1:7002 and posts to the local dashboard") {
  const char* const argv[] = {"socket_receiver"};
  auto parsed = parse(argv);
  REQUIRE(parsed.config);
  CHECK(parsed.config->listen.host == "127.0.0.1");
  CHECK(parsed.config->listen.port == 7002);
  CHECK(parsed.config->dashboard == "http://127.0.0.1:5003/updateDashboard");
  CHECK(parsed.config->flags.stats_interval() == std::chrono::seconds(10));
  CHECK(parsed.config->flags.log_level == "info");
  CHECK(parsed.config->token_file.empty());
}

TEST_CASE("the dashboard's token comes from a file named on the command line, never the token itself") {
  const char* const argv[] = {"socket_receiver", "--token-file", "/run/secrets/dashboard-token"};
  auto parsed = parse(argv);
  REQUIRE(parsed.config);
  CHECK(parsed.config->token_file == "/run/secrets/dashboard-token");
  const char* const no_token_flag[] = {"socket_receiver", "--token", "s3cret"};
  CHECK(parse(no_token_flag).exit_code == 2);
}

TEST_CASE("the receiver's options parse, --stats-interval 0 included") {
  const char* const argv[] = {"socket_receiver", "--listen", "[::1]:7100", "--dashboard", "https://dash.example/update",
                              "--stats-interval", "0", "--log-level", "warn"};
  auto parsed = parse(argv);
  REQUIRE(parsed.config);
  CHECK(parsed.config->listen.host == "::1");
  CHECK(parsed.config->listen.port == 7100);
  CHECK(parsed.config->dashboard == "https://dash.example/update");
  CHECK(parsed.config->flags.stats_interval().count() == 0);
  CHECK(parsed.config->flags.level() == common::log::level::warn);
}

TEST_CASE("bad receiver options are usage errors, --help is not") {
  const char* const bad_listen[] = {"socket_receiver", "--listen", "7002"};
  CHECK(parse(bad_listen).exit_code == 2);
  const char* const bad_scheme[] = {"socket_receiver", "--dashboard", "ftp://127.0.0.1/x"};
  CHECK(parse(bad_scheme).exit_code == 2);
  const char* const no_host[] = {"socket_receiver", "--dashboard", "http://"};
  CHECK(parse(no_host).exit_code == 2);
  const char* const bad_level[] = {"socket_receiver", "--log-level", "loud"};
  CHECK(parse(bad_level).exit_code == 2);
  const char* const negative[] = {"socket_receiver", "--stats-interval", "-1"};
  CHECK(parse(negative).exit_code == 2);
  const char* const help[] = {"socket_receiver", "--help"};
  auto h = parse(help);
  CHECK_FALSE(h.config);
  CHECK(h.exit_code == 0);
}
