#pragma once
// The dashboard's lifecycle: load the page, serve until SIGINT/SIGTERM.
#include "common/stop_signals.hpp"
#include "dashboard_server/options.hpp"

namespace dashboard_server {

/// Serves until a stop signal; the exit code (1 when the page's files cannot be read).
int run(const config& cfg, common::stop_signals& signals);

}  // namespace dashboard_server
