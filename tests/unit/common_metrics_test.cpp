// Unit tests of common/metrics.hpp: the families built at scrape time, the text format through
// prometheus-cpp, the endpoint's answers, and a real endpoint on a real socket.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <asio.hpp>

#include <memory>
#include <string>
#include <thread>

#include "common/cli.hpp"
#include "common/metrics.hpp"

namespace metrics = common::metrics;

namespace {

std::string body() { return "x_total 1\n"; }

// One request over a real TCP connection; the whole response, read until the server closes.
std::string fetch(const std::string& port, const std::string& request) {
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  asio::connect(socket, asio::ip::tcp::resolver(io).resolve("127.0.0.1", port));
  asio::write(socket, asio::buffer(request));
  std::string out;
  std::error_code ec;
  char chunk[4096];
  while (true) {
    const std::size_t n = socket.read_some(asio::buffer(chunk), ec);
    if (ec) break;
    out.append(chunk, n);
  }
  return out;
}

std::string port_of(const std::string& address) { return address.substr(address.rfind(':') + 1); }

}  // namespace

TEST_CASE("families read at scrape time serialize in Prometheus's text format, samples of a name together") {
  std::uint64_t tweets = 41;
  auto from = std::make_shared<metrics::from_function>([&tweets](metrics::families& f) {
    f.counter("trend_test_tweets_total", "Tweets counted.", static_cast<double>(tweets))
        .gauge("trend_test_open", "Open connections.", 2)
        .counter("trend_test_skipped_total", "Skipped.", 3, {{"reason", "invalid_utf8"}})
        .counter("trend_test_skipped_total", "Skipped.", 4, {{"reason", "duplicate"}})
        .info("trend_test_settings_info", "Settings.", {{"window", "5m"}, {"label", "a \"quoted\"\nline"}});
  });
  ++tweets;  // read when collected, not when built
  const std::string text = metrics::text({from});
  CHECK(text.find("# TYPE trend_test_tweets_total counter\ntrend_test_tweets_total 42\n") != std::string::npos);
  CHECK(text.find("# HELP trend_test_open Open connections.\n# TYPE trend_test_open gauge\ntrend_test_open 2\n") !=
        std::string::npos);
  CHECK(text.find("trend_test_skipped_total{reason=\"invalid_utf8\"} 3\ntrend_test_skipped_total{reason=\"duplicate\"} 4\n") !=
        std::string::npos);
  CHECK(text.find("# TYPE trend_test_skipped_total counter") == text.rfind("# TYPE trend_test_skipped_total counter"));
  // Label values are escaped by prometheus-cpp, so outside text cannot break the format.
  CHECK(text.find("trend_test_settings_info{window=\"5m\",label=\"a \\\"quoted\\\"\\nline\"} 1\n") != std::string::npos);
}

TEST_CASE("a registry and a function's families are served together, in order") {
  auto registry = std::make_shared<prometheus::Registry>();
  auto& family = prometheus::BuildCounter().Name("trend_test_requests_total").Help("Requests.").Register(*registry);
  family.Add({{"route", "/"}, {"status", "200"}}).Increment(3);
  auto from = std::make_shared<metrics::from_function>([](metrics::families& f) { f.gauge("trend_test_a", "A.", 1); });
  const std::string text = metrics::text({from, registry});
  CHECK(text.find("trend_test_a 1\n") < text.find("trend_test_requests_total{route=\"/\",status=\"200\"} 3\n"));
  CHECK(text.find("trend_test_requests_total{route=\"/\",status=\"200\"} 3\n") != std::string::npos);
}

TEST_CASE("the endpoint answers GET and HEAD /metrics, 404 elsewhere, 405 for other methods, 400 for garbage") {
  const auto ok = metrics::answer("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", body);
  CHECK(ok.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(ok.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n") != std::string::npos);
  CHECK(ok.find("Content-Length: 10\r\n") != std::string::npos);
  CHECK(ok.find("Connection: close\r\n") != std::string::npos);
  CHECK(ok.substr(ok.size() - 10) == "x_total 1\n");
  CHECK(metrics::answer("GET /metrics?name[]=x HTTP/1.0\r\n\r\n", body).rfind("HTTP/1.1 200 OK", 0) == 0);
  const auto head = metrics::answer("HEAD /metrics HTTP/1.1\r\n\r\n", body);
  CHECK(head.rfind("HTTP/1.1 200 OK", 0) == 0);
  CHECK(head.find("Content-Length: 10\r\n") != std::string::npos);
  CHECK(head.substr(head.size() - 4) == "\r\n\r\n");
  CHECK(metrics::answer("GET / HTTP/1.1\r\n\r\n", body).rfind("HTTP/1.1 404 ", 0) == 0);
  CHECK(metrics::answer("GET /metricsx HTTP/1.1\r\n\r\n", body).rfind("HTTP/1.1 404 ", 0) == 0);
  CHECK(metrics::answer("POST /metrics HTTP/1.1\r\n\r\n", body).rfind("HTTP/1.1 405 ", 0) == 0);
  for (const char* bad : {"", "\r\n\r\n", "GET\r\n\r\n", "GET /metrics\r\n\r\n", "GET  /metrics HTTP/1.1\r\n\r\n",
                          " /metrics HTTP/1.1\r\n\r\n", "GET /metrics SPDY/3\r\n\r\n"}) {
    CAPTURE(bad);
    CHECK(metrics::answer(bad, body).rfind("HTTP/1.1 400 ", 0) == 0);
  }
}

TEST_CASE("a real endpoint serves what its sources hold at the time of each scrape") {
  asio::io_context io;
  int scrapes = 0;
  metrics::endpoint endpoint(io.get_executor(), {"127.0.0.1", 0}, [&scrapes] {
    return "trend_test_scrapes_total " + std::to_string(++scrapes) + "\n";
  });
  REQUIRE(endpoint.listening());
  const std::string port = port_of(endpoint.local_address());
  std::thread runner([&io] { io.run(); });
  const auto first = fetch(port, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  const auto second = fetch(port, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  const auto other = fetch(port, "GET /other HTTP/1.1\r\n\r\n");
  const auto huge = fetch(port, "GET /metrics HTTP/1.1\r\nX: " + std::string(9000, 'a') + "\r\n\r\n");
  endpoint.stop();
  runner.join();  // stop() closed the acceptor: nothing is left to run
  CHECK(first.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(first.substr(first.find("\r\n\r\n") + 4) == "trend_test_scrapes_total 1\n");
  CHECK(second.substr(second.find("\r\n\r\n") + 4) == "trend_test_scrapes_total 2\n");
  CHECK(other.rfind("HTTP/1.1 404 ", 0) == 0);
  CHECK(huge.rfind("HTTP/1.1 431 ", 0) == 0);
  CHECK(scrapes == 2);
}

TEST_CASE("an address that is taken is a warning, not an error: the endpoint just does not listen") {
  asio::io_context io;
  metrics::endpoint first(io.get_executor(), {"127.0.0.1", 0}, body);
  REQUIRE(first.listening());
  const auto port = static_cast<std::uint16_t>(std::stoi(port_of(first.local_address())));
  metrics::endpoint second(io.get_executor(), {"127.0.0.1", port}, body);
  CHECK_FALSE(second.listening());
  CHECK(second.local_address().empty());
  metrics::endpoint unresolvable(io.get_executor(), {"no-such-host.invalid", 5001}, body);
  CHECK_FALSE(unresolvable.listening());
}

TEST_CASE("an endpoint on its own thread serves a registry until destroyed") {
  auto registry = std::make_shared<prometheus::Registry>();
  auto& counter = prometheus::BuildCounter().Name("trend_test_events_total").Help("Events.").Register(*registry).Add({});
  counter.Increment(7);
  {
    asio::io_context io;
    metrics::endpoint probe(io.get_executor(), {"127.0.0.1", 0}, body);  // finds a free port
    const auto port = static_cast<std::uint16_t>(std::stoi(port_of(probe.local_address())));
    probe.stop();
    io.run();  // the acceptor closes: the port is free again
    metrics::endpoint_thread served({"127.0.0.1", port}, {registry});
    const auto reply = fetch(std::to_string(port), "GET /metrics HTTP/1.1\r\n\r\n");
    CHECK(reply.find("trend_test_events_total 7\n") != std::string::npos);
  }
}

TEST_CASE("an optional address is unset until given, and a bad one is a usage error") {
  CLI::App app{"test"};
  std::optional<common::host_port> where;
  common::cli::add_address(app, "--metrics", where, "where");
  const char* none[] = {"test"};
  CHECK_FALSE(common::cli::parse(app, 1, none));
  CHECK_FALSE(where);
  const char* given[] = {"test", "--metrics", "127.0.0.1:9100"};
  CHECK_FALSE(common::cli::parse(app, 3, given));
  REQUIRE(where);
  CHECK(where->port == 9100);
  CLI::App app2{"test"};
  std::optional<common::host_port> other;
  common::cli::add_address(app2, "--metrics", other, "where");
  const char* bad[] = {"test", "--metrics", "9100"};
  CHECK(common::cli::parse(app2, 3, bad) == 2);
}
