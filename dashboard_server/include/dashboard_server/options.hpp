#pragma once
// The dashboard's command line.
#include <cstddef>
#include <string>

#include "common/cli.hpp"
#include "common/hostport.hpp"

namespace dashboard_server {

struct config {
  common::host_port listen{"127.0.0.1", 5003};  ///< where to serve (--listen, or --host and --port)
  std::string static_dir;                       ///< the page's files; empty = <bin>/../share/static
  std::size_t threads = 16;                     ///< threads serving connections; at most threads/2 event streams
  common::cli::common_flags flags;              ///< --log-level, --stats-interval
};

/// Parses the command line: the config, or the exit code to stop with (CLI11 printed why).
common::cli::outcome<config> parse_options(int argc, const char* const* argv);

/// At most this many event streams are open at once; more get 503 and the page polls.
inline std::size_t max_event_streams(const config& cfg) { return cfg.threads / 2; }

}  // namespace dashboard_server
