#pragma once
// The dashboard's state shared by the connections, and its routes.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "dashboard_server/history.hpp"
#include "dashboard_server/options.hpp"
#include "dashboard_server/routes.hpp"
#include "http_server.hpp"

namespace dashboard_server {

/// The board, its history and the event streams waiting for it to change.
struct live_state {
  /// `span`: how far back the history reaches; `token`: what updates must carry, if anything.
  live_state(std::chrono::seconds span, std::optional<std::string> update_token)
      : history(span), token(std::move(update_token)) {}

  std::mutex mutex;  // guards board, history, history_body, history_built_ms, closing, streams
  dashboard_server::board board;
  dashboard_server::history history;
  std::shared_ptr<const std::string> history_body;  ///< the last GET /history body, shared by its readers
  std::int64_t history_built_ms = 0;
  bool closing = false;
  std::set<std::shared_ptr<event_stream>> streams;
  const std::optional<std::string> token;  ///< never logged

  std::atomic<std::size_t> streams_open{0};  ///< admitted streams (also those still starting)
  std::atomic<std::uint64_t> updates{0};     ///< accepted POSTs
  std::atomic<std::uint64_t> refused{0};     ///< refused POSTs (400)
  std::atomic<std::uint64_t> unauthorized{0};     ///< POSTs without the token (401)
  std::atomic<std::int64_t> unauthorized_logged_ms{0};  ///< when a 401 was last logged
  std::atomic<std::uint64_t> streams_refused{0};  ///< event streams turned away (503)

  /// Wakes every event stream (call after changing the board, or after closing).
  void wake_streams();
  /// Ends every event stream: they see `closing` when they wake.
  void close();
};

/// Registers GET /, /favicon.ico, /static/NAME, /refreshDashboard, /history, /config, /healthz,
/// /events and POST /updateDashboard.
void register_routes(http_server& server, live_state& live, const static_files& files, const config& cfg);

}  // namespace dashboard_server
