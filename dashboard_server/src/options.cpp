#include "dashboard_server/options.hpp"

#include <CLI/CLI.hpp>

#include "dashboard_server/http.hpp"
#include "dashboard_server/routes.hpp"

namespace dashboard_server {

common::cli::outcome<config> parse_options(int argc, const char* const* argv) {
  CLI::App app{
      "dashboard_server: the live Top Twitter Hashtags page. Keeps the newest top 10 the receiver\n"
      "POSTs, and serves it as JSON (polling) and as Server-Sent Events (pushed to the page).\n"
      "Routes: GET /, GET /static/NAME, GET /refreshDashboard, POST /updateDashboard, GET /events,\n"
      "GET /healthz.\n"
      "Limits: a request body of at most " + std::to_string(max_body) + " bytes (about twice the largest\n"
      "top-10 form legal tweets can produce, " + std::to_string(worst_form_body) + " bytes: ten " +
      std::to_string(max_hashtag_chars) + "-character hashtags);\n"
      "a request head of at most " + std::to_string(http::max_head) + " bytes within " +
      std::to_string(http::head_timeout.count()) + " s; a body within " + std::to_string(http::body_timeout.count()) +
      " s; an idle kept-alive connection is closed after " + std::to_string(http::idle_timeout.count()) + " s;\n"
      "at most " + std::to_string(http::max_connections) + " connections.",
      "dashboard_server"};
  config cfg;
  std::string host = cfg.listen.host;
  std::uint16_t port = cfg.listen.port;
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
                 "Folder with index.html, app.js, style.css (and chart.min.js, else Debian's is used);\n"
                 "default: <bin>/../share/static")
      ->type_name("DIR");
  app.add_option("--threads", cfg.threads,
                 "Threads serving connections; at most N/2 event streams are open at once (more get 503 and\n"
                 "the page polls). A connection, an event stream too, does not hold a thread while it waits")
      ->type_name("N")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{4}, std::size_t{256}));
  common::cli::add_common_flags(app, cfg.flags);
  if (auto stop = common::cli::parse(app, argc, argv)) return {std::nullopt, *stop};
  if (listen_opt->count() == 0) {
    // "[::1]" as --host means the same as "::1": the brackets only belong in HOST:PORT.
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (host.empty()) {
      CLI::ValidationError e("--host", "an empty host");
      return {std::nullopt, app.exit(e) == 0 ? 0 : 2};
    }
    cfg.listen = common::host_port{host, port};
  }
  return {std::move(cfg), 0};
}

}  // namespace dashboard_server
