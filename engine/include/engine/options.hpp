#pragma once
// The engine's command line, including machida's, which is accepted unchanged.
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "common/cli.hpp"
#include "common/hostport.hpp"

namespace engine {

enum class input_format { framed, lines };

struct config {
  std::vector<common::host_port> in{{"127.0.0.1", 8002}};  ///< where the engine listens for tweets
  common::host_port out{"127.0.0.1", 7002};                ///< where it connects to send records
  std::size_t top = 10;
  input_format format = input_format::framed;
  /// A receiver that takes no byte for this long while records wait is closed and reconnected.
  std::chrono::milliseconds receiver_timeout{3000};
  /// A source that completes no message for this long is closed; zero: never.
  std::chrono::milliseconds idle_timeout{0};
  common::cli::common_flags flags;           ///< --log-level, --stats-interval
  std::vector<std::string> machida_options;  ///< machida-only options seen, as given
};

/// Parses the command line: the config, or the exit code to stop with (CLI11 printed why).
common::cli::outcome<config> parse_options(int argc, const char* const* argv);

}  // namespace engine
