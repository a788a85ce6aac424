// Unit tests of the wire formats: frames, UTF-8, Python literals, records, the ';;' splitter.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "fragments.hpp"
#include "wire/delivery.hpp"
#include "wire/frame.hpp"
#include "wire/pylit.hpp"
#include "wire/record.hpp"
#include "wire/url.hpp"
#include "wire/utf8.hpp"

using namespace std::string_literals;
using trend_test::for_each_fragment;
using trend_test::fragment_sizes;

namespace {

// Decodes `input` fed in pieces of `size`, the way a connection does: keep what is left.
struct frame_run {
  std::vector<std::string> payloads;
  bool bad = false;
  std::string left;
};

frame_run decode_all(std::string_view input, std::size_t size) {
  frame_run run;
  for_each_fragment(input, size, [&](std::string_view piece) {
    if (run.bad) return;
    run.left.append(piece);
    std::size_t at = 0;
    while (true) {
      auto d = wire::frame::decode(std::string_view(run.left).substr(at));
      if (d.state == wire::status::bad) {
        run.bad = true;
        break;
      }
      if (d.state == wire::status::need_more) break;
      run.payloads.emplace_back(d.value);
      at += d.consumed;
    }
    run.left.erase(0, at);
  });
  return run;
}

std::vector<std::string> split_all(std::string_view input, std::size_t size, std::size_t limit,
                                   std::size_t* overflows = nullptr) {
  wire::record::splitter s(limit);
  std::vector<std::string> out;
  for_each_fragment(input, size, [&](std::string_view piece) {
    s.feed(piece);
    while (auto r = s.next()) out.push_back(*r);
  });
  if (overflows) *overflows = s.overflows();
  return out;
}

}  // namespace

// ---- frames ------------------------------------------------------------------------------

TEST_CASE("a tweet is framed as the original client frames it") {
  std::string out;
  CHECK(wire::frame::encode_tweet("Hello everyone!", out));
  CHECK(out == "00016Hello everyone!\n");
  out.clear();
  CHECK(wire::frame::encode_payload("Hello #everyone\n", out));
  CHECK(out == "00016Hello #everyone\n");
}

TEST_CASE("a payload longer than 99999 bytes is refused and nothing is written") {
  std::string out = "keep";
  CHECK_FALSE(wire::frame::encode_tweet(std::string(99999, 'a'), out));
  CHECK_FALSE(wire::frame::encode_payload(std::string(100000, 'a'), out));
  CHECK(out == "keep");
  CHECK(wire::frame::encode_payload(std::string(99999, 'a'), out));
  CHECK(out.substr(4, 5) == "99999");
}

TEST_CASE("frames decode whole from any split of the stream") {
  std::string stream;
  wire::frame::encode_tweet("Hello #everyone", stream);
  wire::frame::encode_tweet("", stream);
  wire::frame::encode_tweet("#café #日本 😀", stream);
  wire::frame::encode_payload(std::string(99999, 'x'), stream);
  wire::frame::encode_payload("", stream);
  for (auto size : fragment_sizes) {
    CAPTURE(size);
    auto run = decode_all(stream, size);
    CHECK_FALSE(run.bad);
    REQUIRE(run.payloads.size() == 5);
    CHECK(run.payloads[0] == "Hello #everyone\n");
    CHECK(run.payloads[1] == "\n");
    CHECK(run.payloads[2] == "#café #日本 😀\n");
    CHECK(run.payloads[3].size() == 99999);
    CHECK(run.payloads[4].empty());
    CHECK(run.left.empty());
  }
}

TEST_CASE("a truncated frame needs more and yields nothing") {
  for (auto size : fragment_sizes) {
    auto run = decode_all("00016Hello", size);
    CHECK_FALSE(run.bad);
    CHECK(run.payloads.empty());
    CHECK(run.left == "00016Hello");
  }
  CHECK(wire::frame::decode("000").state == wire::status::need_more);
  CHECK(wire::frame::decode("").state == wire::status::need_more);
}

TEST_CASE("a header that is not 5 ASCII digits is an error as soon as it is seen") {
  CHECK(wire::frame::decode("GET / HTTP/1.1\r\n").state == wire::status::bad);
  CHECK(wire::frame::decode("0001").state == wire::status::need_more);
  CHECK(wire::frame::decode("0001x").state == wire::status::bad);
  CHECK(wire::frame::decode(" 0016").state == wire::status::bad);
  CHECK(wire::frame::decode("+0016").state == wire::status::bad);
  CHECK(wire::frame::decode("\xff").state == wire::status::bad);
  for (auto size : fragment_sizes) {
    auto run = decode_all("00003ab\n00x03abc", size);
    CHECK(run.bad);
    CHECK(run.payloads == std::vector<std::string>{"ab\n"});
  }
}

TEST_CASE("a bad header is described with its bytes escaped") {
  CHECK(wire::frame::decode("GET / HTTP").error.message == R"(header is not 5 ASCII digits: "GET /")");
  const auto d = wire::frame::decode("\x01\xff\"a");
  CHECK(d.error.message == R"(header is not 5 ASCII digits: "\x01\xff\x22a")");
  CHECK(d.error.offset == 0);
  CHECK(wire::frame::decode("00a").error.offset == 2);
}

// ---- UTF-8 -------------------------------------------------------------------------------

TEST_CASE("UTF-8 is validated as strictly as Python's decoder") {
  CHECK(wire::utf8::valid(""));
  CHECK(wire::utf8::valid("plain ascii text that is longer than eight bytes"));
  CHECK(wire::utf8::valid("caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf"));
  CHECK_FALSE(wire::utf8::valid("\xc3"));                  // truncated
  CHECK_FALSE(wire::utf8::valid("abcdefgh\xc3("));         // bad continuation
  CHECK_FALSE(wire::utf8::valid("\xc0\xaf"));              // overlong
  CHECK_FALSE(wire::utf8::valid("\xe0\x80\xaf"));          // overlong
  CHECK_FALSE(wire::utf8::valid("\xed\xa0\x80"));          // surrogate
  CHECK_FALSE(wire::utf8::valid("\xf4\x90\x80\x80"));      // above U+10FFFF
  CHECK_FALSE(wire::utf8::valid("\xff"));
  CHECK_FALSE(wire::utf8::valid("\x80"));
}

TEST_CASE("code points round-trip through append and next") {
  for (char32_t cp : {U'a', U'\u00e9', U'\u200d', U'\uffff', U'\U0001F600', U'\U0010FFFF'}) {
    std::string s;
    wire::utf8::append(cp, s);
    CHECK(wire::utf8::valid(s));
    std::size_t i = 0;
    CHECK(wire::utf8::next(s, i) == cp);
    CHECK(i == s.size());
  }
}

// ---- Python repr ---------------------------------------------------------------------------

TEST_CASE("repr picks quotes and escapes as Python 3 does") {
  using wire::pylit::repr;
  CHECK(repr("#cpp") == R"('#cpp')");
  CHECK(repr("#it's") == R"("#it's")");
  CHECK(repr("#say\"hi\"") == R"('#say"hi"')");
  CHECK(repr("#both'\"") == R"('#both\'"')");
  CHECK(repr("#back\\slash") == R"('#back\\slash')");
  CHECK(repr("#tab\there\n\r") == R"('#tab\there\n\r')");
  CHECK(repr("#a\u200db") == R"('#a\u200db')");
  CHECK(repr("#café") == "'#café'");
  CHECK(repr("#\u00ad") == R"('#\xad')");
  CHECK(repr("#\x7f") == R"('#\x7f')");
  CHECK(repr("#\x00"s) == R"('#\x00')");
  CHECK(repr("#nbsp\u00a0") == R"('#nbsp\xa0')");
  CHECK(repr("#\u2028") == R"('#\u2028')");
  CHECK(repr("#emoji😀") == "'#emoji😀'");
  CHECK(repr("#\U000e0001") == R"('#\U000e0001')");
  CHECK(repr("#\ue000") == R"('#\ue000')");
  CHECK(repr("#日本") == "'#日本'");
}

TEST_CASE("characters new in Unicode 15 are escaped, as Python 3.11 does") {
  CHECK(wire::pylit::repr("#\U0001fa75") == R"('#\U0001fa75')");
  CHECK(wire::pylit::repr("#\u0cf3") == R"('#\u0cf3')");
  CHECK(wire::pylit::repr("#\U0001fa74") == "'#\U0001fa74'");  // Unicode 14: printable
}

TEST_CASE("isprintable agrees with the system Python 3 on every code point") {
  // /usr/bin/python3 is a dependency (scripts/setup.sh installs it): not running it is a failure.
  FILE* py = popen("/usr/bin/python3 -c \"import sys; sys.stdout.write(''.join("
                   "'1' if chr(c).isprintable() else '0' for c in range(0x110000)))\"",
                   "r");
  REQUIRE_MESSAGE(py != nullptr, "cannot start a shell for /usr/bin/python3");
  std::string bits;
  char buf[65536];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, py)) > 0) bits.append(buf, n);
  const int status = pclose(py);
  REQUIRE_MESSAGE(status == 0, "/usr/bin/python3 did not run (pclose status ", status, ")");
  REQUIRE_MESSAGE(bits.size() == 0x110000, "/usr/bin/python3 wrote ", bits.size(), " flags, not one per code point");
  std::size_t mismatches = 0;
  for (char32_t cp = 0; cp < 0x110000; ++cp) {
    if (wire::pylit::is_printable(cp) != (bits[cp] == '1')) {
      if (++mismatches < 5) FAIL_CHECK("U+", std::hex, static_cast<unsigned>(cp));
    }
  }
  CHECK(mismatches == 0);
}

TEST_CASE("lists print as Python 3 prints them") {
  std::vector<std::string> tags{"#world", "#cpp", "#it's"};
  std::vector<std::int64_t> counts{2, 1, 1234567890123};
  CHECK(wire::pylit::repr_list(tags) == R"(['#world', '#cpp', "#it's"])");
  CHECK(wire::pylit::repr_list(counts) == "[2, 1, 1234567890123]");
  CHECK(wire::pylit::repr_list(std::vector<std::string>{}) == "[]");
}

// ---- Python literal parsing -----------------------------------------------------------------

TEST_CASE("literals parse to the values ast.literal_eval gives") {
  using wire::pylit::parse;
  using wire::pylit::value;
  CHECK(*parse("'abc'") == value{"abc"s});
  CHECK(*parse("\"it's\"") == value{"it's"s});
  CHECK(*parse(R"('a\'b\\c\"d')") == value{"a'b\\c\"d"s});
  CHECK(*parse(R"('\n\r\t\a\b\f\v\0\101')") == value{"\n\r\t\a\b\f\v\0A"s});
  CHECK(*parse(R"('\u200d\U0001F600\x41')") == value{"\u200d😀A"s});
  CHECK(*parse(R"(u'x' "y")") == value{"xy"s});
  CHECK(*parse(R"(r'\n')") == value{"\\n"s});
  CHECK(*parse(R"('\q')") == value{"\\q"s});
  CHECK(*parse("  -42 ") == value{std::int64_t{-42}});
  CHECK(*parse("9223372036854775807") == value{std::int64_t{9223372036854775807}});
  CHECK(*parse("[1, 'a', [], {}]") ==
        value{wire::pylit::list{value{std::int64_t{1}}, value{"a"s}, value{wire::pylit::list{}},
                                value{wire::pylit::dict{}}}});
  CHECK(*parse("[1, 2,]") == value{wire::pylit::list{value{std::int64_t{1}}, value{std::int64_t{2}}}});
  CHECK(*parse(R"(b'\xc3\xa9')") == value{wire::pylit::bytes_value{"\xc3\xa9"}});
}

TEST_CASE("a run of \\x escapes that is valid UTF-8 decodes as UTF-8 (Python 2 byte strings)") {
  using wire::pylit::parse;
  using wire::pylit::value;
  CHECK(*parse(R"('#caf\xc3\xa9')") == value{"#café"s});
  CHECK(*parse(R"('#\xe6\x97\xa5\xe6\x9c\xac')") == value{"#日本"s});
  CHECK(*parse(R"('#\xf0\x9f\x98\x80')") == value{"#😀"s});
  // Anything else is a code point, as in Python 3.
  CHECK(*parse(R"('#\xad')") == value{"#\u00ad"s});
  CHECK(*parse(R"('#\xe9t\xe9')") == value{"#été"s});
  CHECK(*parse(R"('#\xc3\xa9\xff')") == value{"#é\u00ff"s});
}

TEST_CASE("bad literals are errors with an offset and a reason") {
  using wire::pylit::parse;
  for (std::string bad : {"", "'abc", "[1, 2", "{'a' 1}", "[1 2]", "{[1]: 2}", "007", "1e5", "'a\nb'",
                          "None", "'''x'''", "[1] x", "'\\x4'", "'\\ud800'", "99999999999999999999",
                          "'\\N{BULLET}'", "b'é'", "'a' b'b'"}) {
    CAPTURE(bad);
    auto r = parse(bad);
    CHECK_FALSE(r);
    CHECK_FALSE(r.error.message.empty());
  }
  auto r = parse("[1, 2 3]");
  CHECK(r.error.offset == 6);
  CHECK(r.error.message == "expected ',' or ']' in list, found '3'");
}

TEST_CASE("deep nesting and oversized input are refused") {
  std::string deep(wire::pylit::max_depth + 5, '[');
  deep += std::string(wire::pylit::max_depth + 5, ']');
  auto r = wire::pylit::parse(deep);
  CHECK_FALSE(r);
  CHECK(r.error.message.find("nested deeper") != std::string::npos);
  std::string ok_depth(wire::pylit::max_depth, '[');
  ok_depth += std::string(wire::pylit::max_depth, ']');
  CHECK(wire::pylit::parse(ok_depth));
  std::string huge = "'" + std::string(wire::pylit::max_input, 'a') + "'";
  CHECK_FALSE(wire::pylit::parse(huge));
}

TEST_CASE("repr output parses back to the same strings") {
  std::vector<std::string> tags{"#cpp", "#it's", "#say\"hi\"", "#both'\"", "#a\\b", "#a\u200db", "#café",
                                "#\U0001F600", "#\x01\x7f", "#\u00ad\u00ff", "#\U000e0001"};
  auto text = wire::pylit::repr_list(tags);
  auto back = wire::pylit::parse_str_list(text);
  REQUIRE(back);
  CHECK(*back == tags);
}

TEST_CASE("typed list parsers say what is wrong") {
  CHECK(wire::pylit::parse_str_list("['a', 1]").error.message == "list item 1 is not a str");
  CHECK(wire::pylit::parse_int_list("[1, 'a']").error.message == "list item 1 is not an int");
  CHECK(wire::pylit::parse_int_list("{}").error.message == "expected a list of int");
  CHECK(*wire::pylit::parse_str_list("[b'#caf\\xc3\\xa9']") == std::vector<std::string>{"#café"});
}

// ---- records -------------------------------------------------------------------------------

TEST_CASE("records are byte-identical to the Python 3 engine's (ORIGINAL.md examples)") {
  using wire::record::encode;
  CHECK(encode({{"#world", "#cpp"}, {1, 1}}) == R"({'label': "['#world', '#cpp']", 'data': '[1, 1]'};;)" "\n");
  CHECK(encode({{"#cpp", "#world", "#café", "#it's"}, {2, 1, 1, 1}}) ==
        R"({'label': '[\'#cpp\', \'#world\', \'#café\', "#it\'s"]', 'data': '[2, 1, 1, 1]'};;)" "\n");
  CHECK(encode({{"#cpp", "#a\u200db"}, {3, 1}}) == R"({'label': "['#cpp', '#a\\u200db']", 'data': '[3, 1]'};;)" "\n");
}

TEST_CASE("records parse back, Python 3 and Python 2 alike, in either key order") {
  wire::record::top_list expected{{"#cpp", "#world", "#café", "#it's"}, {2, 1, 1, 1}};
  auto text = wire::record::encode(expected);
  auto parsed = wire::record::parse(text.substr(0, text.size() - 3));
  REQUIRE(parsed);
  CHECK(*parsed == expected);

  auto py2 = wire::record::parse(R"(
{'data': '[3, 1, 2]', 'label': '[\'#foo\', \'#caf\\xc3\\xa9\', "#it\'s"]'})");
  REQUIRE(py2);
  CHECK(py2->labels == std::vector<std::string>{"#foo", "#café", "#it's"});
  CHECK(py2->counts == std::vector<std::int64_t>{3, 1, 2});

  auto zwj = wire::record::parse(R"({'label': "['#cpp', '#a\\u200db']", 'data': '[3, 1]'})");
  REQUIRE(zwj);
  CHECK(zwj->labels[1] == "#a\u200db");
}

TEST_CASE("malformed records are refused with a reason") {
  using wire::record::parse;
  CHECK(parse("{'label': \"['#a']\"}").error.message == "record has no 'data'");
  CHECK(parse("{'label': \"['#a']\", 'data': '[1, 2]'}").error.message == "'label' has 1 items, 'data' 2");
  CHECK(parse("{'label': ['#a'], 'data': '[1]'}").error.message == "record's 'label' is not a str");
  CHECK(parse("{'label': \"['#a'\", 'data': '[1]'}").error.message.rfind("'label': ", 0) == 0);
  for (const char* bad : {"[1, 2]", "garbage", "{'label': '[]', 'data': '[]', 'x': '1'}"}) {
    CAPTURE(bad);
    const auto r = parse(bad);
    CHECK_FALSE(r);
    CHECK(r.state == wire::status::bad);
    CHECK_FALSE(r.error.message.empty());
  }
}

TEST_CASE("a record holding raw invalid UTF-8 is refused (re-encoding would change it)") {
  // Found by fuzzing: the parser took the raw bytes into a str, and encoding the record again
  // wrote other bytes. The original receiver decodes the bytes as UTF-8 first and fails.
  const auto r = wire::record::parse("{'label': \"['#a\xff']\", 'data': '[1]'}");
  CHECK_FALSE(r);
  CHECK(r.error.message == "invalid UTF-8");
  CHECK(r.error.offset == 15);
  CHECK_FALSE(wire::pylit::parse("'\xc3'"));
}

TEST_CASE("a record's labels are valid UTF-8 whatever bytes or escapes spell them") {
  // issue 9: a label beyond U+10FFFF (raw F7 BF BF BF decoded as U+1FFFFF) reached the
  // dashboard. Raw invalid UTF-8 is refused; escapes that are not UTF-8 read as code points
  // U+0080-U+00FF (Python 3), and \U beyond Unicode or a surrogate is an error.
  for (std::string raw : {"\xf7\xbf\xbf\xbf", "\xf4\x90\x80\x80", "\xed\xa0\x80", "\xc0\xaf", "\xe6\x97"}) {
    CAPTURE(raw);
    const auto r = wire::record::parse("{'label': \"['#a" + raw + "']\", 'data': '[1]'}");
    CHECK_FALSE(r);
    CHECK(r.error.message == "invalid UTF-8");
  }
  // Python 2 records: the escapes are doubled by the outer repr.
  const std::pair<std::string, std::string> py2[] = {
      {R"(\\xf7\\xbf\\xbf\\xbf)", "\u00f7\u00bf\u00bf\u00bf"},
      {R"(\\xf4\\x90\\x80\\x80)", "\u00f4\u0090\u0080\u0080"},
      {R"(\\xed\\xa0\\x80)", "\u00ed\u00a0\u0080"},
      {R"(\\xf4\\x8f\\xbf\\xbf)", "\U0010ffff"},
  };
  for (const auto& [escaped, decoded] : py2) {
    CAPTURE(escaped);
    const auto r = wire::record::parse("{'label': '[\\'#" + escaped + "\\']', 'data': '[1]'}");
    REQUIRE(r);
    CHECK(r->labels == std::vector<std::string>{"#" + decoded});
    CHECK(wire::utf8::valid(r->labels[0]));
  }
  for (std::string escape : {R"(\\U00110000)", R"(\\ud800)", R"(\\udfff)"}) {
    CAPTURE(escape);
    CHECK_FALSE(wire::record::parse("{'label': '[\\'#" + escape + "\\']', 'data': '[1]'}"));
  }
}

TEST_CASE("the splitter shows the bytes still waiting for a separator") {
  wire::record::splitter split;
  split.feed("{'label': \"[]\", 'data': '[]'};;\n{'lab");
  CHECK(split.next());
  CHECK_FALSE(split.next());
  CHECK(split.pending_bytes() == "\n{'lab");
  CHECK(split.pending() == split.pending_bytes().size());
  split.feed("el';;");
  CHECK(split.next() == "\n{'label'");
  CHECK(split.pending_bytes().empty());
}

TEST_CASE("the splitter yields every record from any split of the stream") {
  std::string stream;
  std::vector<std::string> texts;
  for (int k = 1; k <= 20; ++k) {
    wire::record::top_list t{{"#t" + std::to_string(k), "#x;y"}, {k, 1}};
    auto r = wire::record::encode(t);
    stream += r;
    texts.push_back(r.substr(0, r.size() - 3));
  }
  for (auto size : fragment_sizes) {
    CAPTURE(size);
    auto got = split_all(stream, size, wire::record::max_record);
    REQUIRE(got.size() == texts.size());
    // After ";;" the "\n" stays in front of the next record, as in the original.
    CHECK(got[0] == texts[0]);
    for (std::size_t k = 1; k < got.size(); ++k) CHECK(got[k] == "\n" + texts[k]);
  }
}

TEST_CASE("a run longer than the limit without ';;' is cut and the stream resynchronises") {
  std::string stream = "{'a': 1};;" + std::string(5000, 'x') + ";;{'b': 2};;";
  for (auto size : fragment_sizes) {
    CAPTURE(size);
    std::size_t overflows = 0;
    auto got = split_all(stream, size, 1000, &overflows);
    CHECK(got == std::vector<std::string>{"{'a': 1}", "{'b': 2}"});
    CHECK(overflows == 1);
  }
}

TEST_CASE("a record of exactly the limit is kept however its separator arrives") {
  // Found by fuzzing (tests/fuzz/corpus/record/limit-record-split-separator): a ';' at the end of
  // a read was counted as the record's, so a record of exactly the limit was cut when its ";;"
  // arrived in two reads.
  const std::string record(1000, 'r');
  const std::string stream = record + ";;" + std::string(1001, 'x') + ";;{'b': 2};;";
  for (auto size : fragment_sizes) {
    CAPTURE(size);
    std::size_t overflows = 0;
    CHECK(split_all(stream, size, 1000, &overflows) == std::vector<std::string>{record, "{'b': 2}"});
    CHECK(overflows == 1);
  }
  for (std::size_t cut = 995; cut <= 1003; ++cut) {  // every split around the separator
    CAPTURE(cut);
    wire::record::splitter s(1000);
    s.feed(std::string_view(stream).substr(0, cut));
    std::vector<std::string> got;
    while (auto r = s.next()) got.push_back(*r);
    s.feed(std::string_view(stream).substr(cut));
    while (auto r = s.next()) got.push_back(*r);
    CHECK(got == std::vector<std::string>{record, "{'b': 2}"});
    CHECK(s.overflows() == 1);
  }
}

// ---- forms and percent-encoding ------------------------------------------------------------

TEST_CASE("percent-encoding keeps only unreserved bytes, with a space as %20 or '+'") {
  using wire::url::percent_encode;
  CHECK(percent_encode("Az09-._~") == "Az09-._~");
  CHECK(percent_encode("a b+c&d=é") == "a%20b%2Bc%26d%3D%C3%A9");
  CHECK(percent_encode("a b", wire::url::space::plus) == "a+b");
  CHECK(percent_encode("['#a', \"#it's\"]", wire::url::space::plus) == "%5B%27%23a%27%2C+%22%23it%27s%22%5D");
}

TEST_CASE("a form field decodes as werkzeug does: '+' is a space, %XX a byte, bad escapes stay") {
  using wire::url::form_decode;
  CHECK(form_decode("a+b%20c") == "a b c");
  CHECK(form_decode("%e2%82%AC") == "\xe2\x82\xac");
  CHECK(form_decode("100%") == "100%");
  CHECK(form_decode("%zz%4") == "%zz%4");
  CHECK(wire::url::hex_value('f') == 15);
  CHECK(wire::url::hex_value('G') == -1);
}

TEST_CASE("form decoding undoes form encoding for every byte") {
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  for (const std::string& text : {all, std::string("['#a', \"#it's\"]"), std::string("%+&= ")}) {
    CHECK(wire::url::form_decode(wire::url::percent_encode(text, wire::url::space::plus)) == text);
    CHECK(wire::url::form_decode(wire::url::percent_encode(text)) == text);
  }
}

TEST_CASE("a form body splits into fields in order, and encodes back") {
  const auto fields = wire::url::parse_form("label=%5B%27%23a%27%5D&data=%5B1%5D&&flag&data=2");
  REQUIRE(fields.size() == 4);
  CHECK(fields[0] == std::pair<std::string, std::string>{"label", "['#a']"});
  CHECK(fields[1] == std::pair<std::string, std::string>{"data", "[1]"});
  CHECK(fields[2] == std::pair<std::string, std::string>{"flag", ""});
  CHECK(fields[3].second == "2");
  const wire::url::form sent{{"label", "['#a b']"}, {"data", "[1]"}};
  CHECK(wire::url::encode_form(sent) == "label=%5B%27%23a+b%27%5D&data=%5B1%5D");
  CHECK(wire::url::parse_form(wire::url::encode_form(sent)) == sent);
}

// ---- acknowledged delivery ------------------------------------------------------------------

TEST_CASE("delivery control messages round-trip and are framed tweets the original cannot count") {
  using namespace wire::delivery;
  const hello h{0x0123456789abcdefULL, 42};
  const std::string text = encode(h);
  CHECK(text == "\x1etrend-delivery/1 hello session=0123456789abcdef next=42\n");
  CHECK(is_control(text));
  CHECK(*parse_hello(text) == h);
  CHECK(*parse_welcome(encode(welcome{7})) == welcome{7});
  CHECK(*parse_ack(encode(ack{123456789012ULL})) == ack{123456789012ULL});
  // No white-space-delimited word starts with '#': the original's HashtagFinder finds nothing.
  for (const std::string& payload : {text, encode(welcome{1}), encode(ack{1})}) {
    std::string word;
    for (const char c : payload + " ") {
      if (c == ' ' || c == '\n') {
        CHECK(word.rfind('#', 0) != 0);
        word.clear();
      } else {
        word.push_back(c);
      }
    }
    std::string framed;
    CHECK(wire::frame::encode_payload(payload, framed));
    CHECK(wire::utf8::valid(payload));
  }
}

TEST_CASE("malformed control messages are refused, tweets are not control messages") {
  using namespace wire::delivery;
  CHECK_FALSE(is_control("hello session=1 next=1\n"));
  CHECK_FALSE(is_control("#trend-delivery/1 hello"));
  for (const char* bad : {"\x1etrend-delivery/1 hello session=0 next=1\n", "\x1etrend-delivery/1 hello session=1 next=0\n",
                          "\x1etrend-delivery/1 hello session=xyz next=1\n", "\x1etrend-delivery/1 hello session=1\n",
                          "\x1etrend-delivery/1 hello session=1 next=2", "\x1etrend-delivery/1 hello session=1 next=2 x\n"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_hello(bad));
  }
  CHECK_FALSE(parse_ack("\x1etrend-delivery/1 ack -1\n"));
  CHECK_FALSE(parse_ack("\x1etrend-delivery/1 ack 99999999999999999999999\n"));
  CHECK_FALSE(parse_welcome("\x1etrend-delivery/1 welcome applied=\n"));
}
