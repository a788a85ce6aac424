#pragma once
// The receiver's I/O: the listener and one coroutine per engine connection on one asio thread,
// the forwarder thread posting to the dashboard.
#include "common/stop_signals.hpp"
#include "socket_receiver/options.hpp"

namespace socket_receiver {

/// Runs the receiver until SIGINT/SIGTERM; returns the process exit code.
int run(const config& cfg, common::stop_signals& signals);

}  // namespace socket_receiver
