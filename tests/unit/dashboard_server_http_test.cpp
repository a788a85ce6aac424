// Unit tests of dashboard_server's HTTP layer (request heads, body framing, chunked bodies,
// responses) and its options. Pure functions: the e2e tests drive the same over real sockets.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "dashboard_server/http.hpp"
#include "dashboard_server/options.hpp"
#include "fragments.hpp"
#include "dashboard_options.hpp"

namespace http = dashboard_server::http;

using dashboard_test::parse_fails;
using dashboard_test::parse_ok;

namespace {

http::request_head head_of(std::string_view text) {
  auto parsed = http::parse_head(text);
  REQUIRE(parsed.state == wire::status::ok);
  return *parsed;
}

}  // namespace

// ---- request heads ---------------------------------------------------------------------------

TEST_CASE("a request head parses into method, decoded path, query and headers") {
  const std::string text = "POST /update%44ashboard?x=1 HTTP/1.1\r\nHost: a\r\nContent-Type:  text/plain \r\n\r\nBODY";
  auto parsed = http::parse_head(text);
  REQUIRE(parsed.state == wire::status::ok);
  CHECK(parsed.consumed == text.size() - 4);
  CHECK(parsed->method == "POST");
  CHECK(parsed->path == "/updateDashboard");
  CHECK(parsed->query == "x=1");
  CHECK(parsed->minor_version == 1);
  REQUIRE(parsed->header("content-type"));
  CHECK(*parsed->header("CONTENT-TYPE") == "text/plain");
  CHECK(parsed->header("Cookie") == nullptr);
}

TEST_CASE("a request head arriving in pieces needs more until its blank line, at every split") {
  const std::string text = "GET /healthz HTTP/1.0\nHost: x\n\n";
  for (std::size_t cut = 0; cut < text.size(); ++cut) {
    CAPTURE(cut);
    CHECK(http::parse_head(std::string_view(text).substr(0, cut)).state == wire::status::need_more);
  }
  auto whole = http::parse_head(text);
  REQUIRE(whole.state == wire::status::ok);
  CHECK(whole->minor_version == 0);
  CHECK_FALSE(http::keep_alive(*whole));
}

TEST_CASE("malformed request heads are bad with a reason; an endless one is bad at max_head") {
  for (std::string text : std::vector<std::string>{"GET /\r\n\r\n", "GET  / HTTP/1.1\r\n\r\n", "GET / HTTP/2.0\r\n\r\n", "G(T / HTTP/1.1\r\n\r\n",
                           "GET / HTTP/1.1\r\nNo colon\r\n\r\n", "GET / HTTP/1.1\r\n folded: x\r\n\r\n",
                           "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", "GET /a\rb HTTP/1.1\r\n\r\n",
                           std::string("GET / HTTP/1.1\r\nA: \0\r\n\r\n", 24)}) {
    CAPTURE(text);
    auto r = http::parse_head(text);
    CHECK(r.state == wire::status::bad);
    CHECK(!r.error.message.empty());
    CHECK(r.error.offset < http::max_head);
  }
  const std::string endless = "GET / HTTP/1.1\r\nX: " + std::string(http::max_head, 'a');
  auto r = http::parse_head(endless);
  CHECK(r.state == wire::status::bad);
  CHECK(r.error.offset == http::max_head);
  std::string many = "GET / HTTP/1.1\r\n";
  for (std::size_t i = 0; i <= http::max_header_lines; ++i) many += "A: b\r\n";
  CHECK(http::parse_head(many + "\r\n").state == wire::status::bad);
}

TEST_CASE("keep-alive and 100-continue follow the version and the headers") {
  CHECK(http::keep_alive(head_of("GET / HTTP/1.1\r\n\r\n")));
  CHECK_FALSE(http::keep_alive(head_of("GET / HTTP/1.1\r\nConnection: Upgrade, close\r\n\r\n")));
  CHECK(http::keep_alive(head_of("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")));
  CHECK(http::expects_continue(head_of("POST / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n")));
  CHECK_FALSE(http::expects_continue(head_of("POST / HTTP/1.1\r\n\r\n")));
}

// ---- body framing ----------------------------------------------------------------------------

TEST_CASE("Content-Length is plain decimal digits held to the limit; anything else is bad at once") {
  auto framing = [](std::string headers) { return http::framing(head_of("POST / HTTP/1.1\r\n" + headers + "\r\n"), 1000); };
  auto ok = framing("Content-Length: 1000\r\n");
  REQUIRE(ok);
  CHECK(ok->how == http::body_framing::kind::length);
  CHECK(ok->length == 1000);
  CHECK(framing("")->how == http::body_framing::kind::none);
  CHECK(framing("Content-Length: 0\r\n")->how == http::body_framing::kind::none);
  CHECK(framing("Transfer-Encoding: Chunked\r\n")->how == http::body_framing::kind::chunked);
  for (std::string bad : {"Content-Length: -1\r\n", "Content-Length: 18446744073709551616\r\n",
                          "Content-Length: 99999999999999999999\r\n", "Content-Length: +5\r\n", "Content-Length: 0x10\r\n",
                          "Content-Length: 1 0\r\n", "Content-Length:\r\n", "Content-Length: 5\r\nContent-Length: 6\r\n",
                          "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", "Transfer-Encoding: gzip\r\n"}) {
    CAPTURE(bad);
    CHECK(framing(bad).state == wire::status::bad);
  }
  auto over = framing("Content-Length: 1001\r\n");
  CHECK(over.state == wire::status::bad);
  CHECK(over.error.message == "body of 1001 bytes is over the limit of 1000 bytes");
}

TEST_CASE("a chunked body decodes at every fragment size, extensions and trailers included") {
  const std::string encoded = "4;ext=1\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nTrailer: x\r\n\r\nNEXT";
  for (const std::size_t size : trend_test::fragment_sizes) {
    CAPTURE(size);
    http::chunked_decoder d(1000);
    std::size_t used = 0;
    trend_test::for_each_fragment(encoded, size, [&](std::string_view piece) {
      if (d.state() == wire::status::need_more) used += d.feed(piece);  // after the end: the next request's
    });
    REQUIRE(d.state() == wire::status::ok);
    CHECK(d.body() == "Wikipedia in\r\n\r\nchunks.");
    CHECK(encoded.substr(used) == "NEXT");
  }
}

TEST_CASE("a chunked body over the limit is refused at the chunk size, before its data is held") {
  http::chunked_decoder d(10);
  d.feed("5\r\nhello\r\n");
  CHECK(d.state() == wire::status::need_more);
  d.feed("6\r\n");
  CHECK(d.state() == wire::status::bad);
  CHECK(d.error().message == "body over the limit of 10 bytes");
  CHECK(d.body() == "hello");
  for (std::string bad : std::vector<std::string>{"zz\r\n", "5\r\nhelloXX", "10000000000000000\r\n", std::string(5000, '1')}) {
    CAPTURE(bad.substr(0, 20));
    http::chunked_decoder e(1 << 20);
    e.feed(bad);
    CHECK(e.state() == wire::status::bad);
  }
}

// ---- responses -------------------------------------------------------------------------------

TEST_CASE("a response carries its length, the no-referrer and nosniff headers, and Connection: close when asked") {
  dashboard_server::response r{201, "text/plain; charset=utf-8", "success", {{"X-A", "b"}}};
  const std::string kept = http::serialize(r, true);
  CHECK(kept.rfind("HTTP/1.1 201 Created\r\n", 0) == 0);
  CHECK(kept.find("\r\nContent-Length: 7\r\n") != std::string::npos);
  CHECK(kept.find("\r\nReferrer-Policy: no-referrer\r\n") != std::string::npos);
  CHECK(kept.find("\r\nX-Content-Type-Options: nosniff\r\n") != std::string::npos);
  CHECK(kept.find("\r\nX-A: b\r\n") != std::string::npos);
  CHECK(kept.find("Connection: close") == std::string::npos);
  CHECK(kept.substr(kept.size() - 11) == "\r\n\r\nsuccess");
  const std::string closed = http::serialize(r, false, true);
  CHECK(closed.find("\r\nConnection: close\r\n") != std::string::npos);
  CHECK(closed.substr(closed.size() - 4) == "\r\n\r\n");  // HEAD: no body
  CHECK(http::chunk("abc") == "3\r\nabc\r\n");
  CHECK(http::chunk(std::string(255, 'x')).rfind("ff\r\n", 0) == 0);
  CHECK(http::stream_head(r).find("Transfer-Encoding: chunked\r\n") != std::string::npos);
}

// ---- options ---------------------------------------------------------------------------------

TEST_CASE("the dashboard's options default to the original's address and keep their meanings") {
  auto cfg = parse_ok({});
  CHECK(cfg.listen.host == "127.0.0.1");
  CHECK(cfg.listen.port == 5003);
  CHECK(cfg.static_dir.empty());
  CHECK(cfg.threads == 16);
  CHECK(dashboard_server::max_event_streams(cfg) == 8);
  CHECK(cfg.flags.stats_interval_s == 10);
  CHECK(cfg.flags.log_level == "info");
  cfg = parse_ok({"--host", "0.0.0.0", "--port", "8080", "--static", "/srv/page", "--threads", "32",
                  "--stats-interval", "0", "--log-level", "debug"});
  CHECK(cfg.listen.host == "0.0.0.0");
  CHECK(cfg.listen.port == 8080);
  CHECK(cfg.static_dir == "/srv/page");
  CHECK(dashboard_server::max_event_streams(cfg) == 16);
  CHECK(cfg.flags.stats_interval().count() == 0);
  CHECK(cfg.flags.level() == common::log::level::debug);
}

TEST_CASE("--listen HOST:PORT is --host and --port in one, IPv6 in brackets; --host takes IPv6 too") {
  auto cfg = parse_ok({"--listen", "[::1]:5004"});
  CHECK(cfg.listen.host == "::1");
  CHECK(cfg.listen.port == 5004);
  cfg = parse_ok({"--listen", "127.0.0.2:6000"});
  CHECK(cfg.listen.host == "127.0.0.2");
  cfg = parse_ok({"--host", "::1", "--port", "5005"});
  CHECK(cfg.listen.host == "::1");
  CHECK(cfg.listen.port == 5005);
  CHECK(parse_ok({"--host", "[::1]"}).listen.host == "::1");
}

TEST_CASE("bad dashboard options are usage errors") {
  CHECK(parse_fails({"--port", "0"}) == 2);
  CHECK(parse_fails({"--port", "70000"}) == 2);
  CHECK(parse_fails({"--threads", "2"}) == 2);
  CHECK(parse_fails({"--listen", "nope"}) == 2);
  CHECK(parse_fails({"--listen", "::1:5003"}) == 2);
  CHECK(parse_fails({"--listen", "127.0.0.1:5003", "--port", "5004"}) == 2);
  CHECK(parse_fails({"--host", ""}) == 2);
  CHECK(parse_fails({"--stats-interval", "-1"}) == 2);
  CHECK(parse_fails({"--help"}) == 0);
}
