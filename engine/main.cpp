// engine: the Wallaroo-style stream processor of the trending-hashtags pipeline.
#include <exception>
#include <string>

#include "common/log.hpp"
#include "options.hpp"
#include "server.hpp"

int main(int argc, char** argv) {
  common::log::set_program("engine");
  auto parsed = engine::parse_options(argc, argv);
  if (!parsed.cfg) return parsed.exit_code;
  const auto& cfg = *parsed.cfg;
  if (!cfg.machida_options.empty()) {
    std::string seen;
    for (const auto& o : cfg.machida_options) seen += " " + o;
    common::log::info("machida options accepted for compatibility and ignored (the application is built in):" + seen);
  }
  try {
    return engine::run(cfg);
  } catch (const std::exception& e) {
    common::log::error(std::string("fatal: ") + e.what());
    return 1;
  }
}
