#pragma once
// Every program's main(): stop signals first, then options, then run. So main.cpp reads
//
//   int main(int argc, char** argv) {
//     return common::program_main("engine", argc, argv, engine::parse_options, engine::run);
//   }
//
// and a fatal exception (a bug, or a resource that cannot be had) is logged and exits 1.
#include <exception>
#include <string>
#include <string_view>

#include "common/cli.hpp"
#include "common/log.hpp"
#include "common/stop_signals.hpp"

namespace common {

/// `parse_options(argc, argv)` returns a cli::outcome<Config>; `run(config, signals)` the exit code.
template <class Parse, class Run>
int program_main(std::string_view name, int argc, char** argv, Parse&& parse_options, Run&& run) {
  stop_signals signals;  // before any thread exists, so that every thread inherits the mask
  log::set_program(name);
  auto parsed = parse_options(argc, argv);
  if (!parsed.config) return parsed.exit_code;
  log::set_level(parsed.config->flags.level());
  try {
    return run(*parsed.config, signals);
  } catch (const std::exception& e) {
    log::error(std::string("fatal: ") + e.what());
    return 1;
  }
}

}  // namespace common
