// Unit tests of dashboard_server's routes: pure functions over a board.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <string>
#include <vector>

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
  CHECK(r.body.find("over the limit") != std::string::npos);
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

// ---- form decoding ---------------------------------------------------------------------------

TEST_CASE("form fields decode as werkzeug decodes them") {
  auto f = dashboard_server::parse_form("a=1+2&b=%41%zz%4&c&=x&d=%E2%82%AC");
  REQUIRE(f.size() == 5);
  CHECK(f[0] == std::pair<std::string, std::string>{"a", "1 2"});
  CHECK(f[1] == std::pair<std::string, std::string>{"b", "A%zz%4"});
  CHECK(f[2] == std::pair<std::string, std::string>{"c", ""});
  CHECK(f[3] == std::pair<std::string, std::string>{"", "x"});
  CHECK(f[4].second == "\xe2\x82\xac");
}

TEST_CASE("media_type drops parameters and case") {
  CHECK(dashboard_server::media_type("Application/JSON; charset=UTF-8") == "application/json");
  CHECK(dashboard_server::media_type("") == "");
}

// ---- GET routes ------------------------------------------------------------------------------

TEST_CASE("refreshDashboard returns the original's JSON shape with the version in headers") {
  auto r = dashboard_server::refresh_dashboard(sample());
  CHECK(r.status == 200);
  CHECK(r.content_type == "application/json");
  const auto j = json::parse(r.body);
  CHECK(j == json{{"r_hashtags", {"#world", "#cpp"}}, {"r_counts", {2, 1}}});
  CHECK(header(r, "X-Board-Version") == "7");
  CHECK(header(r, "X-Board-Updated") == "2025-11-25T10:00:00.123Z");
}

TEST_CASE("refreshDashboard of a fresh board is two empty lists") {
  auto r = dashboard_server::refresh_dashboard(board{});
  CHECK(json::parse(r.body) == json{{"r_hashtags", json::array()}, {"r_counts", json::array()}});
  CHECK(header(r, "X-Board-Updated").empty());
}

TEST_CASE("a label that is not valid UTF-8 does not break the JSON") {
  board b;
  b.labels = {"#a\xed\xa0\x80", "#b\xff"};  // a lone surrogate (WTF-8) and a stray byte
  b.counts = {1, 1};
  auto r = dashboard_server::refresh_dashboard(b);
  CHECK(r.status == 200);
  CHECK(json::parse(r.body)["r_hashtags"][0].get<std::string>().rfind("#a", 0) == 0);
  CHECK(dashboard_server::sse_event(b).rfind("id: 0\ndata: {", 0) == 0);
}

TEST_CASE("hostile hashtags stay data in the JSON") {
  board b;
  b.labels = {"#<img src=x onerror=alert(1)>", "#</script>"};
  b.counts = {1, 1};
  const auto j = json::parse(dashboard_server::refresh_dashboard(b).body);
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
  files.emplace("index.html", dashboard_server::static_file{"text/html; charset=utf-8", "<html></html>"});
  files.emplace("app.js", dashboard_server::static_file{"text/javascript; charset=utf-8", "1;"});
  auto page = dashboard_server::static_asset(files, "index.html");
  CHECK(page.status == 200);
  CHECK(page.body == "<html></html>");
  CHECK(header(page, "Content-Security-Policy").find("script-src 'self'") != std::string::npos);
  auto js = dashboard_server::static_asset(files, "app.js");
  CHECK(js.content_type == "text/javascript; charset=utf-8");
  CHECK(dashboard_server::static_asset(files, "../etc/passwd").status == 404);
  CHECK(dashboard_server::static_asset(files, "missing.js").status == 404);
}

TEST_CASE("serving the page does not reset the board (the original did)") {
  board b = sample();
  dashboard_server::static_files files;
  files.emplace("index.html", dashboard_server::static_file{"text/html", "x"});
  (void)dashboard_server::static_asset(files, "index.html");
  CHECK(json::parse(dashboard_server::refresh_dashboard(b).body)["r_counts"] == json{2, 1});
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
  const std::string ev = dashboard_server::sse_event(b);
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

TEST_CASE("times are ISO 8601 UTC with milliseconds; never is empty") {
  CHECK(dashboard_server::iso8601_utc(t1) == "2025-11-25T10:00:00.123Z");
  CHECK(dashboard_server::iso8601_utc(0).empty());
}
