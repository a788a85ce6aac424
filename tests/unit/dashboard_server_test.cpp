// Unit tests of dashboard_server's routes: pure functions over a board.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "dashboard_server/events.hpp"
#include "dashboard_server/routes.hpp"

using json = nlohmann::json;
using dashboard_server::board;

namespace {

constexpr std::int64_t t1 = 1764064800123;  // 2025-11-25T10:00:00.123Z
const std::string form_type = "application/x-www-form-urlencoded";

std::string header(const dashboard_server::response& r, std::string_view name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return "(absent)";
}

board sample() {
  board b;
  b.labels = {"#world", "#cpp"};
  b.counts = {2, 1};
  b.version = 7;
  b.updated_ms = t1;
  return b;
}

}  // namespace

// ---- POST /updateDashboard ------------------------------------------------------------------

TEST_CASE("a form POST as the original receiver sends it updates the board: 201 success") {
  board b;
  auto r = dashboard_server::update_dashboard(b, form_type, "label=%5B%27%23world%27%2C+%27%23cpp%27%5D&data=%5B1%2C+1%5D", t1);
  CHECK(r.status == 201);
  CHECK(r.body == "success");
  CHECK(b.labels == std::vector<std::string>{"#world", "#cpp"});
  CHECK(b.counts == std::vector<std::int64_t>{1, 1});
  CHECK(b.version == 1);
  CHECK(b.updated_ms == t1);
}

TEST_CASE("a form with the content type's parameters and upper case is still a form") {
  board b;
  auto r = dashboard_server::update_dashboard(b, "Application/X-WWW-Form-Urlencoded; charset=utf-8", "data=[1]&label=['%23a']", t1);
  CHECK(r.status == 201);
  CHECK(b.labels == std::vector<std::string>{"#a"});
}

TEST_CASE("an empty form or one without data is 400 error: no data, as the original") {
  board b = sample();
  for (std::string body : {"", "label=%5B%5D", "&&", "datum=[1]"}) {
    CAPTURE(body);
    auto r = dashboard_server::update_dashboard(b, form_type, body, t1 + 1);
    CHECK(r.status == 400);
    CHECK(r.body == "error: no data");
  }
  auto other = dashboard_server::update_dashboard(b, "text/plain", "data=[1]&label=['#a']", t1 + 1);
  CHECK(other.status == 400);
  CHECK(other.body == "error: no data");
  CHECK(b == sample());
}

TEST_CASE("a form without label, literals that do not parse, or lists of different length are 400 with a reason") {
  board b = sample();
  struct bad_case {
    std::string body, reason;
  };
  for (const auto& c : std::vector<bad_case>{
           {"data=[1]", "error: no label"},
           {"label=['#a'&data=[1]", "error: label is not a Python list of str"},
           {"label=[1]&data=[1]", "error: label is not a Python list of str"},
           {"label=['#a']&data=['1']", "error: data is not a Python list of int"},
           {"label=['#a']&data=", "error: data is not a Python list of int"},
           {"label=__import__('os')&data=[1]", "error: label is not a Python list of str"},
           {"label=['#a', '#b']&data=[1]", "error: label has 2 items but data has 1"},
       }) {
    CAPTURE(c.body);
    auto r = dashboard_server::update_dashboard(b, form_type, c.body, t1 + 1);
    CHECK(r.status == 400);
    CHECK(r.body.rfind(c.reason, 0) == 0);
  }
  CHECK(b == sample());
}

TEST_CASE("a body over the limit is 400 with a reason and changes nothing") {
  board b = sample();
  auto r = dashboard_server::update_dashboard(b, form_type, std::string(dashboard_server::max_body + 1, 'a'), t1);
  CHECK(r.status == 400);
  CHECK(r.body.find("over the limit of 131072 bytes") != std::string::npos);
  CHECK(b == sample());
}

TEST_CASE("a Python 2 record's label shows #café") {
  board b;
  // label '[\'#foo\', \'#caf\xc3\xa9\']' after the original receiver's replace("\\\\", "\\")
  auto r = dashboard_server::update_from_form(b, {{"label", "['#foo', '#caf\\xc3\\xa9']"}, {"data", "[3, 1]"}}, t1);
  CHECK(r.status == 201);
  CHECK(b.labels == std::vector<std::string>{"#foo", "#caf\xc3\xa9"});
}

TEST_CASE("the first of duplicate form fields wins, as in Flask") {
  board b;
  auto r = dashboard_server::update_dashboard(b, form_type, "label=['%23a']&data=[5]&data=[6, 7]", t1);
  CHECK(r.status == 201);
  CHECK(b.counts == std::vector<std::int64_t>{5});
}

TEST_CASE("a JSON body with label and data updates the board") {
  board b;
  auto r = dashboard_server::update_dashboard(b, "application/json", R"({"label": ["#a", "#caf\u00e9"], "data": [2, 1]})", t1);
  CHECK(r.status == 201);
  CHECK(r.body == "success");
  CHECK(b.labels == std::vector<std::string>{"#a", "#caf\xc3\xa9"});
  CHECK(b.counts == std::vector<std::int64_t>{2, 1});
}

TEST_CASE("bad JSON bodies are 400 with a reason") {
  board b = sample();
  struct bad_case {
    std::string body, reason;
  };
  for (const auto& c : std::vector<bad_case>{
           {"{", "error: body is not JSON"},
           {"[]", "error: no data"},
           {R"({"label": ["#a"]})", "error: no data"},
           {R"({"data": [1]})", "error: no label"},
           {R"({"label": "#a", "data": [1]})", "error: label is not a JSON array of strings"},
           {R"({"label": [1], "data": [1]})", "error: label is not a JSON array of strings"},
           {R"({"label": ["#a"], "data": [1.5]})", "error: data is not a JSON array of integers"},
           {R"({"label": ["#a"], "data": [18446744073709551615]})", "error: data is not a JSON array of integers"},
           {R"({"label": ["#a"], "data": [1, 2]})", "error: label has 1 items but data has 2"},
       }) {
    CAPTURE(c.body);
    auto r = dashboard_server::update_dashboard(b, "application/json", c.body, t1 + 1);
    CHECK(r.status == 400);
    CHECK(r.body.rfind(c.reason, 0) == 0);
  }
  CHECK(b == sample());
}

TEST_CASE("media_type drops parameters and case") {
  CHECK(dashboard_server::media_type("Application/JSON; charset=UTF-8") == "application/json");
  CHECK(dashboard_server::media_type("") == "");
}

// ---- GET routes ------------------------------------------------------------------------------

TEST_CASE("refreshDashboard returns the original's JSON shape with the version in headers") {
  auto r = dashboard_server::refresh_dashboard(sample(), t1 + 1500);
  CHECK(r.status == 200);
  CHECK(r.content_type == "application/json");
  const auto j = json::parse(r.body);
  CHECK(j == json{{"r_hashtags", {"#world", "#cpp"}}, {"r_counts", {2, 1}}});
  CHECK(header(r, "X-Board-Version") == "7");
  CHECK(header(r, "X-Board-Updated") == "2025-11-25T10:00:00.123Z");
}

TEST_CASE("refreshDashboard of a fresh board is two empty lists") {
  auto r = dashboard_server::refresh_dashboard(board{}, t1 + 1500);
  CHECK(json::parse(r.body) == json{{"r_hashtags", json::array()}, {"r_counts", json::array()}});
  CHECK(header(r, "X-Board-Updated").empty());
}

TEST_CASE("a label that is not valid UTF-8 does not break the JSON") {
  board b;
  b.labels = {"#a\xed\xa0\x80", "#b\xff"};  // a lone surrogate (WTF-8) and a stray byte
  b.counts = {1, 1};
  auto r = dashboard_server::refresh_dashboard(b, t1 + 1500);
  CHECK(r.status == 200);
  CHECK(json::parse(r.body)["r_hashtags"][0].get<std::string>().rfind("#a", 0) == 0);
  CHECK(dashboard_server::sse_event(b, t1 + 1500).rfind("id: 0\ndata: {", 0) == 0);
}

TEST_CASE("hostile hashtags stay data in the JSON") {
  board b;
  b.labels = {"#<img src=x onerror=alert(1)>", "#</script>"};
  b.counts = {1, 1};
  const auto j = json::parse(dashboard_server::refresh_dashboard(b, t1 + 1500).body);
  CHECK(j["r_hashtags"][0] == "#<img src=x onerror=alert(1)>");
  CHECK(j["r_hashtags"][1] == "#</script>");
}

TEST_CASE("healthz reports the version and the event streams") {
  auto r = dashboard_server::healthz(sample(), 3);
  CHECK(r.status == 200);
  const auto j = json::parse(r.body);
  CHECK(j["status"] == "ok");
  CHECK(j["version"] == 7);
  CHECK(j["sse_clients"] == 3);
  CHECK(j["updated"] == "2025-11-25T10:00:00.123Z");
}

TEST_CASE("static files are served with their type, the page with a strict CSP, unknown names 404") {
  dashboard_server::static_files files;
  files.emplace("index.html", dashboard_server::make_static_file("index.html", "<html></html>"));
  files.emplace("app.js", dashboard_server::make_static_file("app.js", "1;"));
  auto page = dashboard_server::static_asset(files, "index.html");
  CHECK(page.status == 200);
  CHECK(page.body == "<html></html>");
  CHECK(header(page, "Content-Security-Policy").find("script-src 'self'") != std::string::npos);
  auto js = dashboard_server::static_asset(files, "app.js");
  CHECK(js.content_type == "text/javascript; charset=utf-8");
  CHECK(dashboard_server::static_asset(files, "../etc/passwd").status == 404);
  CHECK(dashboard_server::static_asset(files, "missing.js").status == 404);
}

TEST_CASE("content types follow the file extension") {
  CHECK(dashboard_server::content_type_for("index.html") == "text/html; charset=utf-8");
  CHECK(dashboard_server::content_type_for("chart.min.js") == "text/javascript; charset=utf-8");
  CHECK(dashboard_server::content_type_for("style.css") == "text/css; charset=utf-8");
  CHECK(dashboard_server::content_type_for("blob") == "application/octet-stream");
}

// ---- Server-Sent Events ----------------------------------------------------------------------

TEST_CASE("an SSE event is one id line and one data line of JSON, then a blank line") {
  board b = sample();
  b.labels = {"#line\nbreak", "#</script>"};
  const std::string ev = dashboard_server::sse_event(b, t1 + 1500);
  CHECK(ev.rfind("id: 7\ndata: ", 0) == 0);
  CHECK(ev.size() >= 2);
  CHECK(ev.substr(ev.size() - 2) == "\n\n");
  CHECK(std::count(ev.begin(), ev.end(), '\n') == 3);  // the label's newline is escaped
  const auto j = json::parse(ev.substr(12, ev.size() - 14));
  CHECK(j["r_hashtags"][0] == "#line\nbreak");
  CHECK(j["version"] == 7);
  CHECK(j["updated"] == "2025-11-25T10:00:00.123Z");
}

TEST_CASE("the event stream starts with a retry delay and heartbeats are comments") {
  CHECK(dashboard_server::sse_preamble() == "retry: 1000\n\n");
  CHECK(dashboard_server::sse_heartbeat().front() == ':');
  CHECK(dashboard_server::sse_heartbeat().substr(dashboard_server::sse_heartbeat().size() - 2) == "\n\n");
}


// ---- what the body limit is made of ----------------------------------------------------------

namespace {

// Ten hashtags of `chars` characters each, U+10348 (4 bytes of UTF-8, printable).
std::vector<std::string> long_tags(std::size_t chars) {
  std::vector<std::string> tags;
  for (int i = 0; i < 10; ++i) {
    std::string tag;
    for (std::size_t k = 0; k < chars; ++k) tag += "\xf0\x90\x8d\x88";
    tags.push_back(tag);
  }
  return tags;
}

std::string escaped_bytes(std::string_view text) {  // as a Python 2 byte string's repr writes them
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    out += "\\x";
    out += hex[u >> 4];
    out += hex[u & 15];
  }
  return out;
}

}  // namespace

TEST_CASE("the largest top-10 form a Python 2 engine and the original receiver can send is accepted, and sized as stated") {
  // Ten 280-character hashtags of 4-byte characters, each byte written \xNN (what reaches the
  // dashboard through the original receiver), counts of 19 digits: the stated worst case.
  const auto tags = long_tags(dashboard_server::max_hashtag_chars);
  std::string label = "[";
  std::string data = "[";
  for (std::size_t i = 0; i < tags.size(); ++i) {
    label += (i ? ", '" : "'") + escaped_bytes(tags[i]) + "'";
    data += (i ? ", " : "") + std::to_string(INT64_MAX - static_cast<std::int64_t>(i));
  }
  label += "]";
  data += "]";
  const std::string body = wire::url::encode_form({{"label", label}, {"data", data}});
  CHECK(body.size() == dashboard_server::worst_form_body);
  CHECK(body.size() == 67546);
  CHECK(body.size() <= dashboard_server::max_body);
  board b;
  auto r = dashboard_server::update_dashboard(b, form_type, body, t1);
  CHECK(r.status == 201);
  CHECK(b.labels == tags);
  CHECK(b.counts.front() == INT64_MAX);
}

TEST_CASE("the same hashtags as our receiver writes them (Python 3 literals) are half that size and accepted") {
  const auto tags = long_tags(dashboard_server::max_hashtag_chars);
  std::string label = "[";
  for (std::size_t i = 0; i < tags.size(); ++i) label += (i ? ", '" : "'") + tags[i] + "'";
  label += "]";
  const std::string body = wire::url::encode_form({{"label", label}, {"data", "[10, 9, 8, 7, 6, 5, 4, 3, 2, 1]"}});
  CHECK(body.size() < dashboard_server::worst_form_body / 2 + 200);
  board b;
  CHECK(dashboard_server::update_dashboard(b, form_type, body, t1).status == 201);
  CHECK(b.labels == tags);
}

// ---- JSON that the parser cannot hold never escapes as an exception ---------------------------

TEST_CASE("JSON numbers out of range, absurd nesting and invalid UTF-8 are 400 with a reason, never an exception") {
  board b = sample();
  std::vector<std::string> bodies = {
      R"({"label": ["#a"], "data": [1e99999]})",
      R"({"label": ["#a"], "data": [-1e99999]})",
      R"({"label": ["#a"], "data": [18446744073709551616]})",
      R"({"label": ["#a"], "data": [-9223372036854775809]})",
      R"({"label": ["#a"], "data": 1e99999})",
      std::string(100000, '['),
      std::string(100000, '[') + std::string(100000, ']'),
      R"({"label": [)" + std::string(50000, '{') + "]}",
      "{\"label\": [\"#a\xff\"], \"data\": [1]}",
      "{\"label\": [\"#a\xed\xa0\x80\"], \"data\": [1]}",
      R"({"label": ["\ud800"], "data": [1]})",
      R"({"label": ["#a"], "data": [1], "label": ["#b", "#c"]})",
  };
  for (const auto& body : bodies) {
    CAPTURE(body.substr(0, 60));
    dashboard_server::response r;
    CHECK_NOTHROW(r = dashboard_server::update_dashboard(b, "application/json", body, t1 + 1));
    CHECK(r.status == 400);
    CHECK(r.body.rfind("error: ", 0) == 0);
  }
  CHECK(b == sample());
}

TEST_CASE("a JSON body nested no deeper than the limit is read; one level more is refused before parsing") {
  board b;
  const std::string ok = std::string(dashboard_server::max_json_depth, '[') + std::string(dashboard_server::max_json_depth, ']');
  CHECK(dashboard_server::update_dashboard(b, "application/json", ok, t1).body == "error: no data");
  const std::string deep = "[" + ok + "]";
  CHECK(dashboard_server::update_dashboard(b, "application/json", deep, t1).body.find("nested deeper") != std::string::npos);
  // Brackets inside strings are not nesting.
  const std::string in_strings = R"({"label": [")" + std::string(1000, '[') + R"("], "data": [1]})";
  CHECK(dashboard_server::update_dashboard(b, "application/json", in_strings, t1).status == 201);
}

// ---- multipart forms --------------------------------------------------------------------------

TEST_CASE("a multipart form is read as Flask reads it; a broken one is an empty form") {
  const std::string type = "multipart/form-data; boundary=XyZ";
  const std::string body =
      "--XyZ\r\nContent-Disposition: form-data; name=\"label\"\r\n\r\n['#m', '#n']\r\n"
      "--XyZ\r\nContent-Disposition: form-data; name=\"data\"; filename=\"d.txt\"\r\nContent-Type: text/plain\r\n\r\n[9, 8]\r\n"
      "--XyZ--\r\n";
  auto fields = dashboard_server::parse_multipart(type, body);
  REQUIRE(fields.size() == 2);
  CHECK(fields[0] == std::pair<std::string, std::string>{"label", "['#m', '#n']"});
  CHECK(fields[1] == std::pair<std::string, std::string>{"data", "[9, 8]"});
  board b;
  CHECK(dashboard_server::update_dashboard(b, type, body, t1).status == 201);
  CHECK(b.counts == std::vector<std::int64_t>{9, 8});
  CHECK(dashboard_server::parse_multipart("multipart/form-data; boundary=\"XyZ\"", body).size() == 2);
  CHECK(dashboard_server::parse_multipart("multipart/form-data", body).empty());
  CHECK(dashboard_server::parse_multipart(type, body.substr(0, body.size() / 2)).empty());
  CHECK(dashboard_server::update_dashboard(b, type, "--XyZ\r\n", t1).body == "error: no data");
}

// ---- cache headers ----------------------------------------------------------------------------

TEST_CASE("static files are no-cache with an ETag; a matching If-None-Match is a 304 without a body") {
  dashboard_server::static_files files;
  files.emplace("app.js", dashboard_server::make_static_file("app.js", "console.log(1);"));
  auto first = dashboard_server::static_asset(files, "app.js");
  CHECK(header(first, "Cache-Control") == "no-cache");
  const std::string etag = header(first, "ETag");
  CHECK(etag.size() == 18);
  CHECK(etag.front() == '"');
  auto again = dashboard_server::static_asset(files, "app.js", etag);
  CHECK(again.status == 304);
  CHECK(again.body.empty());
  CHECK(dashboard_server::static_asset(files, "app.js", "\"other\"").status == 200);
  CHECK(dashboard_server::make_static_file("app.js", "console.log(2);").etag != etag);
  CHECK(header(dashboard_server::refresh_dashboard(sample(), t1 + 1500), "Cache-Control") == "no-store");
}

// ---- the event stream's decisions ---------------------------------------------------------------

TEST_CASE("a new event stream gets the retry delay and the current board at once") {
  const auto step = dashboard_server::stream_open(sample(), t1 + 1500);
  CHECK(step.action == dashboard_server::stream_action::event);
  CHECK(step.bytes.rfind("retry: 1000\n\nid: 7\ndata: {", 0) == 0);
  CHECK(step.sent_version == 7);
  CHECK(dashboard_server::stream_open(board{}, t1 + 1500).bytes.find("id: 0\n") != std::string::npos);
}

TEST_CASE("after a wait a stream sends the newest board, a heartbeat when nothing changed, or ends") {
  board b = sample();
  auto same = dashboard_server::stream_wake(b, 7, false, t1 + 1500);
  CHECK(same.action == dashboard_server::stream_action::heartbeat);
  CHECK(same.bytes == ": keep-alive\n\n");
  CHECK(same.sent_version == 7);
  b.version = 12;  // several updates while the reader was slow: it jumps to the newest
  auto newer = dashboard_server::stream_wake(b, 7, false, t1 + 1500);
  CHECK(newer.action == dashboard_server::stream_action::event);
  CHECK(newer.bytes.rfind("id: 12\n", 0) == 0);
  CHECK(newer.sent_version == 12);
  auto end = dashboard_server::stream_wake(b, 7, true, t1 + 1500);
  CHECK(end.action == dashboard_server::stream_action::end);
  CHECK(end.bytes.empty());
}
