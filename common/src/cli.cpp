#include "common/cli.hpp"

namespace common::cli {

void add_common_flags(CLI::App& app, common_flags& flags) {
  app.add_option("--log-level", flags.log_level, "Least important log lines shown: debug, info, warn, error")
      ->type_name("LEVEL")
      ->capture_default_str()
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  app.add_option("--stats-interval", flags.stats_interval_s, "Seconds between statistics log lines (0: none)")
      ->type_name("SECONDS")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 86400.0));
}

CLI::Option* add_address(CLI::App& app, const std::string& name, host_port& target, const std::string& help) {
  auto* option = app.add_option_function<std::string>(
      name,
      [&target, name](const std::string& text) {
        auto parsed = parse_host_port(text);
        if (!parsed) throw CLI::ValidationError(name, "'" + text + "' is not HOST:PORT (or [IPv6]:PORT)");
        target = *parsed;
      },
      help);
  option->type_name("HOST:PORT")->default_str(to_string(target));
  return option;
}

CLI::Option* add_address(CLI::App& app, const std::string& name, std::optional<host_port>& target,
                         const std::string& help) {
  auto* option = app.add_option_function<std::string>(
      name,
      [&target, name](const std::string& text) {
        auto parsed = parse_host_port(text);
        if (!parsed) throw CLI::ValidationError(name, "'" + text + "' is not HOST:PORT (or [IPv6]:PORT)");
        target = *parsed;
      },
      help);
  option->type_name("HOST:PORT");
  return option;
}

std::optional<int> parse(CLI::App& app, int argc, const char* const* argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help is 0; every usage error is 2, whatever CLI11's code
  }
  return std::nullopt;
}

}  // namespace common::cli
