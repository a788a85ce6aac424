#pragma once
// The command-line pieces every program shares (CLI11): --log-level, --stats-interval, HOST:PORT
// arguments, and the outcome of parsing. Each program's options unit builds on these and returns
// its config struct, so main() only wires parts.
#include <CLI/CLI.hpp>

#include <chrono>
#include <optional>
#include <string>

#include "common/hostport.hpp"
#include "common/log.hpp"

namespace common::cli {

/// Flags of all four programs.
struct common_flags {
  std::string log_level = "info";
  double stats_interval_s = 10;  ///< seconds between stats lines; 0 = none

  log::level level() const { return log::parse_level(log_level).value_or(log::level::info); }
  /// The stats interval; zero means no stats lines.
  std::chrono::milliseconds stats_interval() const {
    return std::chrono::milliseconds(static_cast<long long>(stats_interval_s * 1000));
  }
};

/// Adds --log-level (debug|info|warn|error) and --stats-interval SECONDS (0: none).
void add_common_flags(CLI::App& app, common_flags& flags);

/// Adds an option that takes HOST:PORT (or [IPv6]:PORT) into `target`.
CLI::Option* add_address(CLI::App& app, const std::string& name, host_port& target, const std::string& help);

/// The same into an optional `target`: unset (no default) until the option is given.
CLI::Option* add_address(CLI::App& app, const std::string& name, std::optional<host_port>& target,
                         const std::string& help);

/// What parsing decided: a config to run with, or the exit code to stop with (0 after --help,
/// 2 on a usage error; CLI11 has printed the message).
template <class Config>
struct outcome {
  std::optional<Config> config;
  int exit_code = 0;
};

/// Runs app.parse and turns CLI11's exceptions into an exit code (nullopt when parsing worked).
std::optional<int> parse(CLI::App& app, int argc, const char* const* argv);

}  // namespace common::cli
