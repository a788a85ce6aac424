#pragma once
// dashboard_server's options in unit tests: a command line that parses, or one that is refused.
#include <doctest/doctest.h>

#include <vector>

#include "dashboard_server/options.hpp"

namespace dashboard_test {

/// The config of `dashboard_server ARGV...`, which must parse.
inline dashboard_server::config parse_ok(std::vector<const char*> argv) {
  argv.insert(argv.begin(), "dashboard_server");
  auto parsed = dashboard_server::parse_options(static_cast<int>(argv.size()), argv.data());
  REQUIRE(parsed.config);
  return *parsed.config;
}

/// The exit code of `dashboard_server ARGV...`, which must be refused.
inline int parse_fails(std::vector<const char*> argv) {
  argv.insert(argv.begin(), "dashboard_server");
  auto parsed = dashboard_server::parse_options(static_cast<int>(argv.size()), argv.data());
  CHECK(!parsed.config);
  return parsed.exit_code;
}

}  // namespace dashboard_test
