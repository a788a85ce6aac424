#pragma once
// The dashboard's Prometheus metrics (docs/observability.md) and its GET /metrics route: requests
// by route and status in a prometheus-cpp registry, counted where the server answers; the rest
// read from the live state and the server's counters when /metrics is requested.
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>

#include "http_routes.hpp"
#include "http_server.hpp"

namespace dashboard_server {

class dashboard_metrics {
public:
  /// Counts every response of `server` from now on (its on_answered hook).
  dashboard_metrics(http_server& server, live_state& live);

  /// Registers GET /metrics on `server`.
  void register_route(http_server& server);

  /// The exposition text of every metric now.
  std::string text() const;

private:
  void count(const std::string& route, int status);

  const http_server& server_;
  live_state& live_;
  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
  prometheus::Family<prometheus::Counter>& requests_;
};

}  // namespace dashboard_server
