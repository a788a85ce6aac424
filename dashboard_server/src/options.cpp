#include "dashboard_server/options.hpp"

#include <arpa/inet.h>

#include <CLI/CLI.hpp>

#include <array>
#include <cstring>

#include "common/duration.hpp"
#include "dashboard_server/history.hpp"
#include "dashboard_server/http.hpp"
#include "dashboard_server/routes.hpp"

namespace dashboard_server {

namespace {

// Characters of UTF-8 text: the bytes that do not continue a character.
std::size_t utf8_chars(std::string_view text) {
  std::size_t n = 0;
  for (const char c : text) n += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  return n;
}

}  // namespace

common::cli::outcome<config> parse_options(int argc, const char* const* argv) {
  CLI::App app{
      "dashboard_server: the live Top Twitter Hashtags page. Keeps the newest top 10 the receiver\n"
      "POSTs, and serves it as JSON (polling) and as Server-Sent Events (pushed to the page), with\n"
      "its history over the last --history (one snapshot per second at most).\n"
      "Routes: GET /, GET /static/NAME, GET /refreshDashboard, POST /updateDashboard, GET /events,\n"
      "GET /history, GET /config, GET /healthz.\n"
      "Updates: with a token (" + std::string(token_variable) + " in the environment, or --token-file), POST\n"
      "/updateDashboard needs \"Authorization: Bearer TOKEN\" (else 401); reading stays open. A --host other\n"
      "than loopback needs a token or --allow-anonymous-updates.\n"
      "Limits: a request body of at most " + std::to_string(max_body) + " bytes (about twice the largest\n"
      "top-10 form legal tweets can produce, " + std::to_string(worst_form_body) + " bytes: ten " +
      std::to_string(max_hashtag_chars) + "-character hashtags);\n"
      "a request head of at most " + std::to_string(http::max_head) + " bytes within " +
      std::to_string(http::head_timeout.count()) + " s; a body within " + std::to_string(http::body_timeout.count()) +
      " s; an idle kept-alive connection is closed after " + std::to_string(http::idle_timeout.count()) + " s;\n"
      "at most " + std::to_string(http::max_connections) + " connections; a history of at most " +
      std::to_string(history_max_bytes / (1024 * 1024)) + " MiB of JSON.",
      "dashboard_server"};
  config cfg;
  std::string host = cfg.listen.host;
  std::uint16_t port = cfg.listen.port;
  std::string history = common::format_duration(cfg.history);
  std::string stale_after = common::format_duration(cfg.stale_after);
  auto* host_opt = app.add_option("--host", host, "Address to listen on (IPv4, IPv6 such as ::1, or a name)")
                       ->type_name("HOST")
                       ->capture_default_str();
  auto* port_opt = app.add_option("--port", port, "TCP port to listen on")
                       ->type_name("PORT")
                       ->capture_default_str()
                       ->check(CLI::Range(1, 65535));
  auto* listen_opt = common::cli::add_address(app, "--listen", cfg.listen,
                                              "HOST:PORT (or [IPv6]:PORT) to listen on: --host and --port in one");
  listen_opt->excludes(host_opt)->excludes(port_opt);
  app.add_option("--static", cfg.static_dir,
                 "Folder with index.html, app.js, style.css, favicon.svg (and chart.min.js, else Debian's is\n"
                 "used); default: <bin>/../share/static")
      ->type_name("DIR");
  app.add_option("--threads", cfg.threads,
                 "Threads serving connections; at most N/2 event streams are open at once (more get 503 and\n"
                 "the page polls). A connection, an event stream too, does not hold a thread while it waits")
      ->type_name("N")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{4}, std::size_t{256}));
  app.add_option("--history", history,
                 "How far back GET /history and the page's line chart reach (1s to " +
                     common::format_duration(max_history_span) + "): one snapshot per\n"
                     "second at most, the newest update of each second wins")
      ->type_name("DURATION")
      ->capture_default_str();
  app.add_option("--stale-after", stale_after,
                 "The page calls the stream stale after this long without an update (1s to 1h)")
      ->type_name("DURATION")
      ->capture_default_str();
  app.add_option("--subtitle", cfg.subtitle,
                 "A line of text shown under the page's title, e.g. \"last 5 minutes, trend score\" (text,\n"
                 "never markup; at most " + std::to_string(max_subtitle_chars) + " characters)")
      ->type_name("TEXT");
  app.add_option("--token-file", cfg.token_file,
                 "File holding the update token (mode 600; it wins over " + std::string(token_variable) +
                     "). The token itself\nnever goes on the command line")
      ->type_name("FILE");
  app.add_flag("--allow-anonymous-updates", cfg.allow_anonymous_updates,
               "Let a dashboard listening beyond loopback take updates without a token");
  common::cli::add_common_flags(app, cfg.flags);
  if (auto stop = common::cli::parse(app, argc, argv)) return {std::nullopt, *stop};
  auto usage = [&app](const std::string& option, const std::string& why) {
    return common::cli::outcome<config>{std::nullopt, app.exit(CLI::ValidationError(option, why)) == 0 ? 0 : 2};
  };
  if (listen_opt->count() == 0) {
    // "[::1]" as --host means the same as "::1": the brackets only belong in HOST:PORT.
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (host.empty()) return usage("--host", "an empty host");
    cfg.listen = common::host_port{host, port};
  }
  using std::chrono::duration_cast;
  const auto span = common::parse_duration(history);
  if (!span || *span < std::chrono::seconds(1) || *span > max_history_span)
    return usage("--history", "'" + history + "' is not a duration from 1s to " +
                                  common::format_duration(max_history_span) + " (such as 30s, 15m, 1h)");
  cfg.history = duration_cast<std::chrono::seconds>(*span);  // whole seconds: one snapshot per second
  const auto stale = common::parse_duration(stale_after);
  if (!stale || *stale < std::chrono::seconds(1) || *stale > std::chrono::hours(1))
    return usage("--stale-after", "'" + stale_after + "' is not a duration from 1s to 1h (such as 10s, 2m)");
  cfg.stale_after = duration_cast<std::chrono::milliseconds>(*stale);
  if (utf8_chars(cfg.subtitle) > max_subtitle_chars)
    return usage("--subtitle", "is longer than " + std::to_string(max_subtitle_chars) + " characters");
  return {std::move(cfg), 0};
}

bool is_loopback_host(std::string_view host) {
  if (host == "localhost" || host == "localhost.") return true;
  const std::string text(host);
  std::array<unsigned char, 16> addr{};
  if (::inet_pton(AF_INET, text.c_str(), addr.data()) == 1) return addr[0] == 127;
  if (::inet_pton(AF_INET6, text.c_str(), addr.data()) == 1) {
    static constexpr std::array<unsigned char, 16> loopback{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    static constexpr std::array<unsigned char, 12> v4_mapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (addr == loopback) return true;
    return std::memcmp(addr.data(), v4_mapped.data(), v4_mapped.size()) == 0 && addr[12] == 127;
  }
  return false;  // a name other than localhost may resolve anywhere
}

std::optional<std::string> exposure_refusal(const config& cfg, bool has_token) {
  if (has_token || cfg.allow_anonymous_updates || is_loopback_host(cfg.listen.host)) return std::nullopt;
  return "refusing to listen on " + common::to_string(cfg.listen) +
         " without an update token: it is not a loopback address, so anyone who reaches it could post "
         "fake trends. Either set a token (" + std::string(token_variable) +
         " in the environment, or --token-file FILE of mode 600; give socket_receiver the same), or pass "
         "--allow-anonymous-updates to take updates from anyone";
}

}  // namespace dashboard_server
