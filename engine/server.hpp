#pragma once
// The engine's I/O: TCP sources, the stateful step, the TCP sink, on one asio thread.
#include <memory>

#include "options.hpp"

namespace engine {

/// Runs the engine until SIGINT/SIGTERM; returns the process exit code.
int run(const config& cfg);

}  // namespace engine
