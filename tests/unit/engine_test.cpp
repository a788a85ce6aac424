// Unit tests of the engine's logic: the stream decoder, the hashtag finder, the top-N counter,
// the command line.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "engine/hashtags.hpp"
#include "engine/options.hpp"
#include "engine/stream_decoder.hpp"
#include "engine/top_counter.hpp"
#include "fragments.hpp"
#include "wire/record.hpp"

namespace {

std::vector<std::string> tags_of(std::string_view text) {
  std::vector<std::string> out;
  engine::for_each_hashtag(text, [&](std::string_view t) { out.emplace_back(t); });
  return out;
}

using strings = std::vector<std::string>;
using trend_test::for_each_fragment;
using trend_test::fragment_sizes;

// What a source connection makes of `input` read in pieces of `size`: the tweets, whether the
// engine closed it (and why), and what finish() said at the end.
struct decoded_stream {
  strings tweets;
  std::string closed;    // the error that closed the connection, "" if none
  std::string at_end;    // finish(): the error, or "" when nothing was left or a last line counted
};

decoded_stream decode_stream(engine::input_format format, std::string_view input, std::size_t size) {
  engine::stream_decoder d(format);
  decoded_stream out;
  for_each_fragment(input, size, [&](std::string_view piece) {
    if (!out.closed.empty()) return;
    d.feed(piece);
    wire::parsed<std::string_view> t;
    while ((t = d.next())) out.tweets.emplace_back(t.value);
    if (t.state == wire::status::bad) out.closed = t.error.message;
  });
  if (out.closed.empty()) {
    const auto last = d.finish();
    if (last) out.tweets.emplace_back(last.value);
    if (last.state == wire::status::bad) out.at_end = last.error.message;
  }
  return out;
}

// The original's state, computed the slow, obvious way: count, then sort by count descending,
// ties by first seen.
wire::record::top_list brute_force_top(const std::vector<std::string>& events, std::size_t n) {
  std::map<std::string, std::pair<std::int64_t, std::size_t>> counts;  // tag -> (count, first seen)
  for (std::size_t k = 0; k < events.size(); ++k) {
    auto [it, added] = counts.try_emplace(events[k], 0, k);
    ++it->second.first;
  }
  std::vector<std::pair<std::string, std::pair<std::int64_t, std::size_t>>> all(counts.begin(), counts.end());
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return a.second.first != b.second.first ? a.second.first > b.second.first : a.second.second < b.second.second;
  });
  wire::record::top_list top;
  for (std::size_t k = 0; k < std::min(n, all.size()); ++k) {
    top.labels.push_back(all[k].first);
    top.counts.push_back(all[k].second.first);
  }
  return top;
}

}  // namespace

// ---- the stream decoder ----------------------------------------------------------------------

TEST_CASE("framed tweets come out whole from any split of the stream") {
  const std::string input = "00016Hello #everyone\n00004#a \n00001\n00000";
  for (auto size : fragment_sizes) {
    CAPTURE(size);
    const auto got = decode_stream(engine::input_format::framed, input, size);
    CHECK(got.tweets == strings{"Hello #everyone\n", "#a \n", "\n", ""});
    CHECK(got.closed.empty());
    CHECK(got.at_end.empty());
  }
}

TEST_CASE("a bad frame header closes the connection after the whole frames before it") {
  for (auto size : fragment_sizes) {
    CAPTURE(size);
    const auto got = decode_stream(engine::input_format::framed, "00003#a\nGET / HTTP/1.1\r\n", size);
    CHECK(got.tweets == strings{"#a\n"});
    // Refused as soon as the first bad byte arrives: the message shows the header bytes seen then.
    CHECK(got.closed.rfind(R"(header is not 5 ASCII digits: "G)", 0) == 0);
  }
  engine::stream_decoder d(engine::input_format::framed);
  d.feed("x0000");
  CHECK(d.next().state == wire::status::bad);
  d.feed("00003abc");
  CHECK(d.next().state == wire::status::bad);  // no resynchronising after a bad header
}

TEST_CASE("a stream that ends inside a frame drops the cut frame and says how much") {
  for (auto size : fragment_sizes) {
    CAPTURE(size);
    const auto got = decode_stream(engine::input_format::framed, "00003#a\n00010#cut", size);
    CHECK(got.tweets == strings{"#a\n"});
    CHECK(got.at_end == "ended inside a frame; 9 bytes dropped");
  }
}

TEST_CASE("lines come out with their newline, and a last line without one still counts") {
  const std::string input = "typing #tweets\n\n#by #hand\nlast #one";
  for (auto size : fragment_sizes) {
    CAPTURE(size);
    const auto got = decode_stream(engine::input_format::lines, input, size);
    CHECK(got.tweets == strings{"typing #tweets\n", "\n", "#by #hand\n", "last #one"});
    CHECK(got.closed.empty());
    CHECK(got.at_end.empty());
  }
}

TEST_CASE("a line over the limit closes a lines connection; one at the limit does not") {
  const std::string at_limit(engine::stream_decoder::max_line - 1, 'a');
  const auto ok = decode_stream(engine::input_format::lines, at_limit + "\n#b\n", 100000);
  CHECK(ok.tweets.size() == 2);
  CHECK(ok.closed.empty());
  const auto long_line = decode_stream(engine::input_format::lines, "#a\n" + at_limit + "xx", 100000);
  CHECK(long_line.tweets == strings{"#a\n"});
  CHECK(long_line.closed == "a line longer than 1048576 bytes");
}

TEST_CASE("the decoder's buffer stays bounded, and is freed or shrunk when idle") {
  engine::stream_decoder d(engine::input_format::framed);
  std::string frame = "99999" + std::string(99999, 'x');
  for (int k = 0; k < 50; ++k) {
    const auto room = d.prepare(256 * 1024);
    const std::size_t n = std::min(room.size(), frame.size());
    std::copy_n(frame.data(), n, room.data());
    d.commit(n);
    while (d.next()) {
    }
    frame.erase(0, n);
    if (frame.empty()) frame = "99999" + std::string(99999, 'x');
  }
  CHECK(d.capacity() < 512 * 1024);
  while (d.pending() > 0 && !frame.empty()) {
    const std::size_t n = std::min<std::size_t>(frame.size(), 4096);
    d.feed(std::string_view(frame).substr(0, n));
    frame.erase(0, n);
    while (d.next()) {
    }
  }
  CHECK(d.pending() == 0);
  d.shrink_when_idle();
  CHECK(d.capacity() == 0);
  d.feed("00002#a");
  CHECK(d.next().value == "#a");
  // A connection that stopped in the middle of a header keeps those bytes, not a read buffer.
  (void)d.prepare(256 * 1024);
  d.feed("000");
  CHECK(d.capacity() >= 256 * 1024);
  d.shrink_when_idle();
  CHECK(d.capacity() == 3);
  d.feed("03#b\n");
  CHECK(d.next().value == "#b\n");
}

// ---- hashtags and the top N ------------------------------------------------------------------

TEST_CASE("hashtags are white-space-delimited words that start with '#', as the original finds them") {
  CHECK(tags_of("Hello #everyone\n") == strings{"#everyone"});
  CHECK(tags_of("#a #b,#c a#d # #") == strings{"#a", "#b,#c", "#", "#"});
  CHECK(tags_of("#Café #café #CAFÉ") == strings{"#Café", "#café", "#CAFÉ"});
  CHECK(tags_of("no tags here") == strings{});
  CHECK(tags_of("") == strings{});
  CHECK(tags_of("   \t\n ") == strings{});
  CHECK(tags_of("#end") == strings{"#end"});
  CHECK(tags_of("(#paren) #dot. #it's") == strings{"#dot.", "#it's"});
}

TEST_CASE("every white-space character of Python's str.split() separates hashtags") {
  for (std::string sep : {"\t", "\n", "\v", "\f", "\r", "\x1c", "\x1d", "\x1e", "\x1f", " ", "\u0085", "\u00a0",
                          "\u1680", "\u2000", "\u2005", "\u200a", "\u2028", "\u2029", "\u202f", "\u205f", "\u3000"}) {
    CAPTURE(sep);
    CHECK(tags_of("#a" + sep + "#b" + sep) == strings{"#a", "#b"});
  }
}

TEST_CASE("characters that are not white space to Python stay inside the hashtag") {
  for (std::string joined : {"\u200b", "\u200d", "\u2060", "\ufeff", "\u180e", "\u00ad", "\u3001", "\u2800", "\u0084"}) {
    CAPTURE(joined);
    CHECK(tags_of("#a" + joined + "b #c") == strings{"#a" + joined + "b", "#c"});
  }
}

TEST_CASE("the top N ranks by count, ties by first seen, and records match the original's bytes") {
  engine::top_counter c(10);
  std::string out;
  c.add("#world");
  c.append_record(out);
  c.add("#cpp");
  c.append_record(out);
  CHECK(out == "{'label': \"['#world']\", 'data': '[1]'};;\n"
               "{'label': \"['#world', '#cpp']\", 'data': '[1, 1]'};;\n");
  out.clear();
  c.add("#cpp");
  c.add("#café");
  c.add("#it's");
  c.append_record(out);
  CHECK(out == R"({'label': '[\'#cpp\', \'#world\', \'#café\', "#it\'s"]', 'data': '[2, 1, 1, 1]'};;)" "\n");
  CHECK(c.distinct() == 4);
  CHECK(c.events() == 5);
}

TEST_CASE("a hashtag outside the top N enters it only when it beats the last") {
  engine::top_counter c(2);
  for (auto t : {"#a", "#b", "#c"}) c.add(t);
  CHECK(c.top().labels == strings{"#a", "#b"});  // #c ties and was seen last
  c.add("#c");
  CHECK(c.top().labels == strings{"#c", "#a"});
  CHECK(c.top().counts == std::vector<std::int64_t>{2, 1});
  c.add("#b");  // #b (2) now beats #a (1); it ties #c but #c stays ahead only if seen first: #b was seen first
  CHECK(c.top().labels == strings{"#b", "#c"});
  CHECK(c.top().counts == std::vector<std::int64_t>{2, 2});
}

TEST_CASE("the incremental top N always equals a full sort of all counts") {
  std::mt19937 rng(12345);
  for (std::size_t n : {1, 3, 10, 50}) {
    for (std::size_t vocabulary : {5, 40, 1000}) {
      CAPTURE(n);
      CAPTURE(vocabulary);
      engine::top_counter c(n);
      std::vector<std::string> events;
      std::uniform_real_distribution<double> u(0, 1);
      for (int k = 0; k < 3000; ++k) {
        // Skewed draw so that ranks move, plus ties among rare tags.
        const auto idx = static_cast<std::size_t>(static_cast<double>(vocabulary) * u(rng) * u(rng));
        events.push_back("#t" + std::to_string(idx) + (idx % 7 == 0 ? "'" : "") + (idx % 11 == 0 ? "\"" : ""));
        c.add(events.back());
        if (k % 97 == 0 || k == 2999) {
          const auto expected = brute_force_top(events, n);
          REQUIRE(c.top() == expected);
          std::string got;
          c.append_record(got);
          REQUIRE(got == wire::record::encode(expected));
        }
      }
    }
  }
}

TEST_CASE("hashtags with quotes, backslashes and invisible characters are escaped as Python does") {
  engine::top_counter c(10);
  for (auto t : {"#a\\b", "#it's", "#say\"x\"", "#z\u200dw"}) c.add(t);
  std::string got;
  c.append_record(got);
  CHECK(got == wire::record::encode(c.top()));
  CHECK(got == R"({'label': '[\'#a\\\\b\', "#it\'s", \'#say"x"\', \'#z\\u200dw\']', 'data': '[1, 1, 1, 1]'};;)" "\n");
}

TEST_CASE("the state keeps exact counts across table growth") {
  engine::top_counter c(10);
  for (int round = 0; round < 3; ++round)
    for (int k = 0; k < 20000; ++k) c.add("#tag" + std::to_string(k));
  c.add("#tag19999");
  CHECK(c.distinct() == 20000);
  CHECK(c.events() == 60001);
  CHECK(c.top().labels.front() == "#tag19999");
  CHECK(c.top().counts.front() == 4);
  CHECK(c.top().labels[1] == "#tag0");
}

TEST_CASE("machida's command line from the tutorial is accepted unchanged") {
  const char* argv[] = {"engine", "--application-module", "twitter_wallaroo_app", "--in", "127.0.0.1:8002", "--out",
                        "127.0.0.1:7002", "--metrics", "127.0.0.1:5001", "--control", "127.0.0.1:6000", "--data",
                        "127.0.0.1:6001", "--worker-name", "worker1", "--ponythreads=1", "--external",
                        "127.0.0.1:5050", "--cluster-initializer", "--ponythreads=1", "--ponynoblock"};
  auto parsed = engine::parse_options(static_cast<int>(std::size(argv)), argv);
  REQUIRE(parsed.config);
  CHECK(parsed.config->in.size() == 1);
  CHECK(parsed.config->in[0].port == 8002);
  CHECK(parsed.config->out.port == 7002);
  // --metrics is machida's and ours: it serves Prometheus metrics (issue 13); the rest is ignored.
  REQUIRE(parsed.config->metrics);
  CHECK(parsed.config->metrics->host == "127.0.0.1");
  CHECK(parsed.config->metrics->port == 5001);
  CHECK(parsed.config->machida_options.size() == 9);
}

TEST_CASE("--metrics is off by default, the last one given wins, and a bad address is a usage error") {
  const char* none[] = {"engine"};
  CHECK_FALSE(engine::parse_options(1, none).config->metrics);
  const char* twice[] = {"engine", "--metrics", "127.0.0.1:5001", "--metrics", "[::1]:9100"};
  auto parsed = engine::parse_options(5, twice);
  REQUIRE(parsed.config);
  REQUIRE(parsed.config->metrics);
  CHECK(parsed.config->metrics->host == "::1");
  CHECK(parsed.config->metrics->port == 9100);
  const char* bad[] = {"engine", "--metrics", "5001"};
  CHECK(engine::parse_options(3, bad).exit_code == 2);
}

TEST_CASE("the engine's own options parse, and bad ones are usage errors") {
  const char* argv[] = {"engine", "--in", "127.0.0.1:1,127.0.0.1:2", "--top", "3", "--input-format", "lines"};
  auto parsed = engine::parse_options(static_cast<int>(std::size(argv)), argv);
  REQUIRE(parsed.config);
  CHECK(parsed.config->in.size() == 2);
  CHECK(parsed.config->top == 3);
  CHECK(parsed.config->format == engine::input_format::lines);
  const char* bad1[] = {"engine", "--in", "nowhere"};
  CHECK(engine::parse_options(3, bad1).exit_code != 0);
  const char* bad2[] = {"engine", "--input-format", "xml"};
  CHECK(engine::parse_options(3, bad2).exit_code != 0);
  const char* bad3[] = {"engine", "--top", "0"};
  CHECK(engine::parse_options(3, bad3).exit_code != 0);
}

TEST_CASE("a restored all-time state goes on exactly as the one it was saved from") {
  std::mt19937_64 rng(5);
  engine::top_counter a(10);
  auto tag = [&](std::uint64_t r) { return "#t" + std::to_string(r % 11 == 0 ? r % 5000 : r % 30); };
  for (int k = 0; k < 20000; ++k) {
    const std::string t = tag(rng());
    a.add(t, t + "!");
  }
  std::string saved;
  engine::bytes_out out(saved);
  a.save(out);
  engine::top_counter b(10);
  engine::bytes_in in(saved);
  REQUIRE(b.restore(in));
  CHECK(b.top() == a.top());
  CHECK(b.distinct() == a.distinct());
  CHECK(b.events() == a.events());
  for (int k = 0; k < 20000; ++k) {
    const std::string t = tag(rng());
    a.add(t, t + "!");
    b.add(t, t + "!");
    std::string ra, rb;
    a.append_record(ra);
    b.append_record(rb);
    REQUIRE(ra == rb);
  }
  for (std::size_t cut : {std::size_t{0}, std::size_t{3}, saved.size() / 2, saved.size() - 1}) {
    engine::top_counter c(10);
    engine::bytes_in part(std::string_view(saved).substr(0, cut));
    CHECK_FALSE(c.restore(part));
    CHECK(c.distinct() == 0);
  }
}

TEST_CASE("feeding no bytes to a decoder that holds no buffer is a no-op") {
  // Found by fuzzing: memcpy from an empty view into the null room of an empty decoder (UB).
  engine::stream_decoder d(engine::input_format::framed);
  d.feed("");
  CHECK(d.pending() == 0);
  CHECK(d.next().state == wire::status::need_more);
}
