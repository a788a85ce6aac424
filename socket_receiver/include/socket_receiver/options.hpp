#pragma once
// The receiver's command line: where engines connect, where records go, the common flags.
#include <optional>
#include <string>

#include "common/cli.hpp"
#include "common/hostport.hpp"

namespace socket_receiver {

/// What the receiver runs with; the defaults are the original's.
struct config {
  common::host_port listen{"127.0.0.1", 7002};                   ///< where engines connect
  std::string dashboard = "http://127.0.0.1:5003/updateDashboard";  ///< where each record is POSTed
  std::string token_file;  ///< --token-file: the dashboard's update token (else DASHBOARD_TOKEN)
  common::cli::common_flags flags;                                ///< --log-level, --stats-interval
  std::optional<common::host_port> metrics;  ///< where Prometheus metrics are served; unset: nowhere
};

/// The environment variable that holds the dashboard's update token.
inline constexpr const char* token_variable = "DASHBOARD_TOKEN";

/// Parses the command line: the config, or the exit code to stop with (CLI11 printed why).
common::cli::outcome<config> parse_options(int argc, const char* const* argv);

}  // namespace socket_receiver
