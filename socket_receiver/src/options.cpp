#include "socket_receiver/options.hpp"

#include <CLI/CLI.hpp>

namespace socket_receiver {

common::cli::outcome<config> parse_options(int argc, const char* const* argv) {
  CLI::App app{
      "socket_receiver: receives the engine's ';;' top-10 records and forwards the newest one to the\n"
      "dashboard as an HTTP form POST (label, data), as the original socket_receiver.py did.\n"
      "Latest wins: while a POST is in flight newer records replace the waiting one.\n"
      "A dashboard that needs a token gets it from " + std::string(token_variable) + " or --token-file.",
      "socket_receiver"};
  config cfg;
  common::cli::add_address(app, "--listen", cfg.listen, "HOST:PORT to listen on for engine connections");
  app.add_option("--dashboard", cfg.dashboard, "http:// or https:// URL to POST each record to (form label/data)")
      ->type_name("URL")
      ->capture_default_str()
      ->check(
          [](const std::string& url) -> std::string {
            // curl would also take ftp://, file://, ...: only HTTP makes sense here.
            if (url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0) {
              if (url.size() > url.find("//") + 2) return {};
            }
            return "expected an http:// or https:// URL, e.g. http://127.0.0.1:5003/updateDashboard";
          },
          "");
  app.add_option("--token-file", cfg.token_file,
                 "File holding the dashboard's update token (mode 600; it wins over " + std::string(token_variable) +
                     " in the\nenvironment), sent as \"Authorization: Bearer TOKEN\". Never give the token itself on the\n"
                     "command line")
      ->type_name("FILE");
  common::cli::add_address(app, "--metrics", cfg.metrics,
                           "Serve Prometheus metrics at http://HOST:PORT/metrics (off by default)");
  common::cli::add_common_flags(app, cfg.flags);
  if (auto stop = common::cli::parse(app, argc, argv)) return {std::nullopt, *stop};
  return {std::move(cfg), 0};
}

}  // namespace socket_receiver
