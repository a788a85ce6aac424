// Unit tests of what issue 15 added to dashboard_server's pure logic: the history ring and
// GET /history, the update token, GET /config, the start-up exposure check, the new options, and
// the fields the page's health line reads.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "dashboard_server/events.hpp"
#include "dashboard_server/history.hpp"
#include "dashboard_server/http.hpp"
#include "dashboard_server/options.hpp"
#include "dashboard_server/routes.hpp"
#include "dashboard_options.hpp"

using json = nlohmann::json;
using dashboard_server::board;
using std::chrono::seconds;

using dashboard_test::parse_fails;
using dashboard_test::parse_ok;

namespace {

constexpr std::int64_t t0 = 1764064800000;  // 2025-11-25T10:00:00.000Z, a whole second

board at(std::int64_t ms, std::vector<std::string> labels, std::vector<std::int64_t> counts) {
  board b;
  b.labels = std::move(labels);
  b.counts = std::move(counts);
  b.updated_ms = ms;
  b.version = 1;
  return b;
}

json history_of(const dashboard_server::history& h, std::int64_t now) { return json::parse(h.json(now)); }

std::string header(const dashboard_server::response& r, std::string_view name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return "(absent)";
}

}  // namespace

// ---- the history ring ---------------------------------------------------------------------------

TEST_CASE("updates a second or more apart are separate snapshots, oldest first, in the documented shape") {
  dashboard_server::history h(seconds(60));
  h.record(at(t0 + 100, {"#a", "#b"}, {2, 1}));
  h.record(at(t0 + 1100, {"#b", "#a"}, {5, 3}));
  h.record(at(t0 + 2500, {"#c"}, {9}));
  CHECK(h.json(t0 + 2600) ==
        "[{\"t\":1764064800100,\"r_hashtags\":[\"#a\",\"#b\"],\"r_counts\":[2,1]},"
        "{\"t\":1764064801100,\"r_hashtags\":[\"#b\",\"#a\"],\"r_counts\":[5,3]},"
        "{\"t\":1764064802500,\"r_hashtags\":[\"#c\"],\"r_counts\":[9]}]");
  CHECK(h.size() == 3);
}

TEST_CASE("the newest update of each second wins") {
  dashboard_server::history h(seconds(60));
  h.record(at(t0 + 10, {"#a"}, {1}));
  h.record(at(t0 + 500, {"#a"}, {2}));
  h.record(at(t0 + 999, {"#b"}, {3}));
  const auto j = history_of(h, t0 + 999);
  REQUIRE(j.size() == 1);
  CHECK(j[0]["t"] == t0 + 999);
  CHECK(j[0]["r_hashtags"] == json{"#b"});
  h.record(at(t0 + 1000, {"#c"}, {4}));  // the next second starts a new snapshot
  CHECK(h.size() == 2);
}

TEST_CASE("the history never holds more seconds than its span, and /history shows only the span before now") {
  dashboard_server::history h(seconds(3));
  for (int i = 0; i < 10; ++i) h.record(at(t0 + i * 1000, {"#t" + std::to_string(i)}, {i}));
  CHECK(h.size() == 3);
  auto j = history_of(h, t0 + 9000);
  REQUIRE(j.size() == 3);
  CHECK(j[0]["t"] == t0 + 7000);
  CHECK(j[2]["t"] == t0 + 9000);
  // No update since: time alone moves the span on.
  CHECK(history_of(h, t0 + 10'000).size() == 2);
  CHECK(history_of(h, t0 + 12'000).empty());
  CHECK(h.json(t0 + 60'000) == "[]");
}

TEST_CASE("a snapshot keeps the top 10 of a longer board") {
  dashboard_server::history h(seconds(60));
  std::vector<std::string> labels;
  std::vector<std::int64_t> counts;
  for (int i = 0; i < 25; ++i) {
    labels.push_back("#t" + std::to_string(i));
    counts.push_back(100 - i);
  }
  h.record(at(t0, labels, counts));
  const auto j = history_of(h, t0);
  CHECK(j[0]["r_hashtags"].size() == dashboard_server::history_top);
  CHECK(j[0]["r_hashtags"][9] == "#t9");
  CHECK(j[0]["r_counts"][9] == 91);
}

TEST_CASE("the history holds at most history_max_bytes of JSON: the oldest go first, the newest stays") {
  dashboard_server::history h(dashboard_server::max_history_span);
  // Ten hashtags of 280 four-byte characters, new every second: the longest legal top 10.
  std::vector<std::string> tags;
  for (int i = 0; i < 10; ++i) {
    std::string tag = "#";
    for (int k = 0; k < 279; ++k) tag += "\xf0\x90\x8d\x88";
    tags.push_back(tag);
  }
  std::size_t most = 0;
  for (int i = 0; i < 900; ++i) {
    h.record(at(t0 + i * 1000, tags, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
    most = std::max(most, h.bytes());
  }
  CHECK(most <= dashboard_server::history_max_bytes);
  CHECK(h.size() < 900);
  CHECK(h.size() > 300);  // about 11 KiB a second: some 6 minutes of them
  const std::string body = h.json(t0 + 899'000);
  CHECK(body.size() <= dashboard_server::history_max_bytes + h.size() + 2);
  CHECK(json::parse(body).back()["t"] == t0 + 899'000);
}

TEST_CASE("a clock that goes back drops the snapshots after it") {
  dashboard_server::history h(seconds(60));
  h.record(at(t0, {"#a"}, {1}));
  h.record(at(t0 + 5000, {"#b"}, {2}));
  h.record(at(t0 + 2000, {"#c"}, {3}));
  const auto j = history_of(h, t0 + 2000);
  REQUIRE(j.size() == 2);
  CHECK(j[1]["r_hashtags"] == json{"#c"});
}

TEST_CASE("labels that are not valid UTF-8 do not break the history's JSON") {
  dashboard_server::history h(seconds(60));
  h.record(at(t0, {"#a\xed\xa0\x80", "#b\xff"}, {1, 1}));
  CHECK(history_of(h, t0)[0]["r_hashtags"].size() == 2);
}

TEST_CASE("seconds round down, also before 1970") {
  CHECK(dashboard_server::second_of(1999) == 1);
  CHECK(dashboard_server::second_of(0) == 0);
  CHECK(dashboard_server::second_of(-1) == -1);
  CHECK(dashboard_server::second_of(-1000) == -1);
  CHECK(dashboard_server::second_of(-1001) == -2);
}

TEST_CASE("GET /history shares its body and is never cached; a shared body is serialized like any other") {
  auto body = std::make_shared<const std::string>("[]");
  auto r = dashboard_server::history_response(body);
  CHECK(r.status == 200);
  CHECK(r.content_type == "application/json");
  CHECK(header(r, "Cache-Control") == "no-store");
  CHECK(r.shared_body == body);
  CHECK(r.payload() == "[]");
  const std::string whole = dashboard_server::http::serialize(r, true);
  CHECK(whole.find("Content-Length: 2\r\n") != std::string::npos);
  CHECK(whole.substr(whole.size() - 6) == "\r\n\r\n[]");
  const std::string head = dashboard_server::http::serialize(r, true, true);
  CHECK(head.find("Content-Length: 2\r\n") != std::string::npos);
  CHECK(head.substr(head.size() - 4) == "\r\n\r\n");
}

// ---- the update token ---------------------------------------------------------------------------

TEST_CASE("only Authorization: Bearer with the exact token passes") {
  using dashboard_server::bearer_matches;
  CHECK(bearer_matches("Bearer s3cret", "s3cret"));
  CHECK(bearer_matches("bearer s3cret", "s3cret"));
  CHECK(bearer_matches("BEARER   s3cret ", "s3cret"));
  CHECK_FALSE(bearer_matches("", "s3cret"));
  CHECK_FALSE(bearer_matches("Bearer", "s3cret"));
  CHECK_FALSE(bearer_matches("Bearer ", "s3cret"));
  CHECK_FALSE(bearer_matches("Bearer s3cre", "s3cret"));
  CHECK_FALSE(bearer_matches("Bearer s3cretx", "s3cret"));
  CHECK_FALSE(bearer_matches("Bearers3cret", "s3cret"));
  CHECK_FALSE(bearer_matches("Basic s3cret", "s3cret"));
  CHECK_FALSE(bearer_matches("s3cret", "s3cret"));
}

TEST_CASE("an update without the token is a 401 that says what is needed") {
  auto r = dashboard_server::unauthorized();
  CHECK(r.status == 401);
  CHECK(r.body.find("Authorization: Bearer") != std::string::npos);
  CHECK(header(r, "WWW-Authenticate").rfind("Bearer", 0) == 0);
  CHECK(dashboard_server::http::serialize(r, true).rfind("HTTP/1.1 401 Unauthorized\r\n", 0) == 0);
}

// ---- what the page reads ------------------------------------------------------------------------

TEST_CASE("GET /config gives the page its subtitle and spans as JSON text") {
  auto r = dashboard_server::page_config({"<b>last 5 minutes</b>, trend score", 900'000, 10'000});
  CHECK(r.status == 200);
  CHECK(r.content_type == "application/json");
  const auto j = json::parse(r.body);
  CHECK(j["subtitle"] == "<b>last 5 minutes</b>, trend score");
  CHECK(j["history_ms"] == 900'000);
  CHECK(j["stale_after_ms"] == 10'000);
}

TEST_CASE("a board event carries its time, its age when sent, and the server's start") {
  board b = at(t0 + 100, {"#a"}, {1});
  b.version = 3;
  b.started_ms = t0 - 5000;
  const std::string ev = dashboard_server::sse_event(b, t0 + 350);
  const auto j = json::parse(ev.substr(ev.find("data: ") + 6));
  CHECK(j["t"] == t0 + 100);
  CHECK(j["age_ms"] == 250);
  CHECK(j["started"] == t0 - 5000);
  CHECK(j["version"] == 3);
  board never;
  CHECK(json::parse(dashboard_server::board_event_json(never, t0))["age_ms"].is_null());
  auto r = dashboard_server::refresh_dashboard(b, t0 + 1100);
  CHECK(header(r, "X-Board-Age-Ms") == "1000");
  CHECK(header(r, "X-Board-Started") == std::to_string(t0 - 5000));
  CHECK(header(dashboard_server::refresh_dashboard(never, t0), "X-Board-Age-Ms") == "(absent)");
  CHECK(json::parse(r.body) == json{{"r_hashtags", {"#a"}}, {"r_counts", {1}}});  // the original's shape
}

// ---- options and the exposure check -------------------------------------------------------------

TEST_CASE("--history, --stale-after, --subtitle, --token-file and --allow-anonymous-updates parse") {
  auto cfg = parse_ok({});
  CHECK(cfg.history == seconds(15 * 60));
  CHECK(cfg.stale_after == seconds(10));
  CHECK(cfg.subtitle.empty());
  CHECK(cfg.token_file.empty());
  CHECK_FALSE(cfg.allow_anonymous_updates);
  cfg = parse_ok({"--history", "1h", "--stale-after", "2500ms", "--subtitle", "last 5 minutes, trend score",
                  "--token-file", "/run/token", "--allow-anonymous-updates"});
  CHECK(cfg.history == seconds(3600));
  CHECK(cfg.stale_after == std::chrono::milliseconds(2500));
  CHECK(cfg.subtitle == "last 5 minutes, trend score");
  CHECK(cfg.token_file == "/run/token");
  CHECK(cfg.allow_anonymous_updates);
  CHECK(parse_ok({"--history", "90s"}).history == seconds(90));
  CHECK(parse_ok({"--history", "1.5s"}).history == seconds(1));  // whole seconds
}

TEST_CASE("absurd history spans, stale thresholds and subtitles are usage errors") {
  CHECK(parse_fails({"--history", "0"}) == 2);
  CHECK(parse_fails({"--history", "500ms"}) == 2);
  CHECK(parse_fails({"--history", "2h"}) == 2);
  CHECK(parse_fails({"--history", "15"}) == 2);
  CHECK(parse_fails({"--history", "-5m"}) == 2);
  CHECK(parse_fails({"--stale-after", "0"}) == 2);
  CHECK(parse_fails({"--stale-after", "2h"}) == 2);
  CHECK(parse_fails({"--subtitle", std::string(201, 'x').c_str()}) == 2);
  std::string long_text;
  for (int i = 0; i < 200; ++i) long_text += "\xc3\xa9";  // 200 characters, 400 bytes
  CHECK(parse_ok({"--subtitle", long_text.c_str()}).subtitle == long_text);
  CHECK(parse_fails({"--token", "s3cret"}) == 2);  // the token never goes on the command line
}

TEST_CASE("loopback is localhost, 127.0.0.0/8 and ::1; everything else may be reached from elsewhere") {
  using dashboard_server::is_loopback_host;
  for (const char* host : {"127.0.0.1", "127.1.2.3", "localhost", "::1", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1"})
    CHECK_MESSAGE(is_loopback_host(host), host);
  for (const char* host : {"0.0.0.0", "::", "192.168.1.10", "10.0.0.1", "example.org", "localhost.example.org",
                           "128.0.0.1", "::ffff:10.0.0.1", "::2", ""})
    CHECK_MESSAGE(!is_loopback_host(host), host);
}

TEST_CASE("a non-loopback address without a token is refused, naming both ways out") {
  auto cfg = parse_ok({"--host", "0.0.0.0"});
  const auto why = dashboard_server::exposure_refusal(cfg, false);
  REQUIRE(why);
  CHECK(why->find("0.0.0.0:5003") != std::string::npos);
  CHECK(why->find("DASHBOARD_TOKEN") != std::string::npos);
  CHECK(why->find("--token-file") != std::string::npos);
  CHECK(why->find("--allow-anonymous-updates") != std::string::npos);
  CHECK_FALSE(dashboard_server::exposure_refusal(cfg, true));
  CHECK_FALSE(dashboard_server::exposure_refusal(parse_ok({"--host", "0.0.0.0", "--allow-anonymous-updates"}), false));
  CHECK_FALSE(dashboard_server::exposure_refusal(parse_ok({}), false));
  CHECK_FALSE(dashboard_server::exposure_refusal(parse_ok({"--listen", "[::1]:5003"}), false));
  CHECK(dashboard_server::exposure_refusal(parse_ok({"--listen", "[::]:5003"}), false));
}
