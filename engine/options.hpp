#pragma once
// The engine's command line, including machida's, which is accepted unchanged.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "wire/hostport.hpp"

namespace engine {

enum class input_format { framed, lines };

struct config {
  std::vector<wire::host_port> in{{"127.0.0.1", 8002}};  ///< where the engine listens for tweets
  wire::host_port out{"127.0.0.1", 7002};                ///< where it connects to send records
  std::size_t top = 10;
  input_format format = input_format::framed;
  std::chrono::seconds stats_interval{10};
  std::vector<std::string> machida_options;  ///< machida-only options seen, as given
};

/// Parses the command line. Returns the config, or the exit code when the program should stop
/// (0 after --help, 2 on a usage error; CLI11 prints the message).
struct parse_outcome {
  std::optional<config> cfg;
  int exit_code = 0;
};
parse_outcome parse_options(int argc, const char* const* argv);

}  // namespace engine
