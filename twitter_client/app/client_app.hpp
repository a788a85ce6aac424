#pragma once
// twitter_client's I/O: the source thread, the engine link's thread and the stats lines.
#include "common/stop_signals.hpp"
#include "twitter_client/options.hpp"

namespace twitter_client {

/// Runs until the source ends (and what is queued is delivered) or SIGINT/SIGTERM; returns the
/// exit code: 0 done, 1 fatal source error or undelivered frames, 2 bad credentials.
int run(const config& cfg, common::stop_signals& signals);

}  // namespace twitter_client
