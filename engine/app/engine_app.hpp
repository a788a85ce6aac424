#pragma once
// The engine's I/O: TCP sources, the stateful step, the TCP sink, on one asio thread.
#include "common/stop_signals.hpp"
#include "engine/options.hpp"

namespace engine {

/// Runs the engine until SIGINT/SIGTERM; returns the process exit code.
int run(const config& cfg, common::stop_signals& signals);

}  // namespace engine
