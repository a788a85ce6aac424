#pragma once
// engine --kafka: the engine as one member of a Kafka consumer group (docs/scale-out.md).
#include "common/stop_signals.hpp"
#include "engine/options.hpp"

namespace engine {

/// Runs the engine on Kafka until SIGINT/SIGTERM; returns the process exit code.
int run_kafka(const config& cfg, common::stop_signals& signals);

}  // namespace engine
