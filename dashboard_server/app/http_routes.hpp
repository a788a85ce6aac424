#pragma once
// The dashboard's state shared by the connections, and its routes.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>

#include "dashboard_server/options.hpp"
#include "dashboard_server/routes.hpp"
#include "http_server.hpp"

namespace dashboard_server {

/// The board and the event streams waiting for it to change.
struct live_state {
  std::mutex mutex;  // guards board, closing, streams
  dashboard_server::board board;
  bool closing = false;
  std::set<std::shared_ptr<event_stream>> streams;

  std::atomic<std::size_t> streams_open{0};  ///< admitted streams (also those still starting)
  std::atomic<std::uint64_t> updates{0};     ///< accepted POSTs
  std::atomic<std::uint64_t> refused{0};     ///< refused POSTs (400)
  std::atomic<std::uint64_t> streams_refused{0};  ///< event streams turned away (503)

  /// Wakes every event stream (call after changing the board, or after closing).
  void wake_streams();
  /// Ends every event stream: they see `closing` when they wake.
  void close();
};

/// Registers GET /, /static/NAME, /refreshDashboard, /healthz, /events and POST /updateDashboard.
void register_routes(http_server& server, live_state& live, const static_files& files, const config& cfg);

}  // namespace dashboard_server
