#include "dashboard_metrics.hpp"

#include "common/metrics.hpp"

namespace dashboard_server {

dashboard_metrics::dashboard_metrics(http_server& server, live_state& live)
    : server_(server),
      live_(live),
      requests_(prometheus::BuildCounter()
                    .Name("trend_dashboard_server_requests_total")
                    .Help("Responses by route (the registered path or prefix; none: an unknown path or a request "
                          "refused before routing) and HTTP status.")
                    .Register(*registry_)) {
  server.on_answered([this](const std::string& route, int status) { count(route, status); });
}

void dashboard_metrics::count(const std::string& route, int status) {
  // Both labels come from a fixed set: the routes registered and the statuses the server writes.
  requests_.Add({{"route", route}, {"status", std::to_string(status)}}).Increment();
}

std::string dashboard_metrics::text() const {
  auto state = std::make_shared<common::metrics::from_function>([this](common::metrics::families& f) {
    const auto& c = server_.counters();
    const auto n = [](const auto& v) { return static_cast<double>(v.load()); };
    std::int64_t updated_ms = 0;
    {
      std::lock_guard lock(live_.mutex);
      updated_ms = live_.board.updated_ms;
    }
    f.counter("trend_dashboard_server_updates_total", "Updates accepted (POST /updateDashboard answered 201).",
              n(live_.updates))
        .counter("trend_dashboard_server_updates_refused_total", "Updates refused (400).", n(live_.refused))
        .gauge("trend_dashboard_server_last_update_timestamp_seconds",
               "Unix time of the newest accepted update; 0: none yet.", static_cast<double>(updated_ms) / 1000)
        .gauge("trend_dashboard_server_event_streams", "Event streams (GET /events) open.", n(live_.streams_open))
        .counter("trend_dashboard_server_event_streams_refused_total",
                 "Event streams turned away (503) because half the threads serve streams already.",
                 n(live_.streams_refused))
        .gauge("trend_dashboard_server_connections_open", "HTTP connections open.", n(c.connections_open))
        .counter("trend_dashboard_server_connections_turned_away_total",
                 "Connections closed at once because 512 were open.", n(c.turned_away))
        .counter("trend_dashboard_server_bad_requests_total", "Requests refused before routing (malformed, too large).",
                 n(c.bad_requests))
        .counter("trend_dashboard_server_timeouts_total", "Connections cut by a deadline (idle, head, body, write).",
                 n(c.timeouts));
  });
  return common::metrics::text({state, registry_});
}

void dashboard_metrics::register_route(http_server& server) {
  server.get("/metrics", [this](const request&) {
    return reply{response{200, std::string(common::metrics::content_type), text(), {{"Cache-Control", "no-store"}}}, {}};
  });
}

}  // namespace dashboard_server
