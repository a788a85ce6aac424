#include "http_routes.hpp"

#include "common/log.hpp"
#include "common/time.hpp"
#include "dashboard_server/events.hpp"

namespace dashboard_server {

namespace log = common::log;

void live_state::wake_streams() {
  std::lock_guard lock(mutex);
  for (const auto& s : streams) s->wake();
}

void live_state::close() {
  {
    std::lock_guard lock(mutex);
    closing = true;
  }
  wake_streams();
}

namespace {

std::string header_or_empty(const request& req, std::string_view name) {
  const std::string* value = req.head.header(name);
  return value ? *value : std::string{};
}

// One event stream: the board at once, then each newer board, a heartbeat when nothing changes.
asio::awaitable<void> serve_events(live_state& live, std::shared_ptr<event_stream> s) {
  log::info("event stream opened by " + s->peer());
  stream_step step;
  {
    std::lock_guard lock(live.mutex);
    live.streams.insert(s);
    step = stream_open(live.board, common::unix_ms());
  }
  bool open = co_await s->write(std::move(step.bytes));
  while (open && co_await s->wait(heartbeat_every)) {
    {
      std::lock_guard lock(live.mutex);
      step = stream_wake(live.board, step.sent_version, live.closing, common::unix_ms());
    }
    if (step.action == stream_action::end) break;
    open = co_await s->write(std::move(step.bytes));
  }
  {
    std::lock_guard lock(live.mutex);
    live.streams.erase(s);
  }
  --live.streams_open;
  log::info("event stream of " + s->peer() + " closed");
}

// A refused token is logged at most once a second, with the count since: a flood of guesses
// cannot flood the log. Nothing of the guess is logged.
void log_unauthorized(live_state& live, const request& req) {
  const std::uint64_t count = ++live.unauthorized;
  const std::int64_t now = common::unix_ms();
  std::int64_t last = live.unauthorized_logged_ms.load();
  if (now - last < 1000 || !live.unauthorized_logged_ms.compare_exchange_strong(last, now)) return;
  log::warn("POST /updateDashboard from " + req.peer + " refused: 401, no valid token (" +
            std::to_string(count) + " refused so far)");
}

}  // namespace

void register_routes(http_server& server, live_state& live, const static_files& files, const config& cfg) {
  server.get("/", [&files](const request& req) {
    return reply{static_asset(files, "index.html", header_or_empty(req, "If-None-Match")), {}};
  });
  // Browsers ask for /favicon.ico whatever the page links; a 404 would be a console error.
  server.get("/favicon.ico", [&files](const request& req) {
    return reply{static_asset(files, "favicon.svg", header_or_empty(req, "If-None-Match")), {}};
  });
  server.get_prefix("/static/", [&files](const request& req) {
    return reply{static_asset(files, std::string_view(req.head.path).substr(8), header_or_empty(req, "If-None-Match")), {}};
  });
  server.get("/refreshDashboard", [&live](const request&) {
    std::lock_guard lock(live.mutex);
    return reply{refresh_dashboard(live.board, common::unix_ms()), {}};
  });
  server.get("/history", [&live](const request&) {
    const std::int64_t now = common::unix_ms();
    std::lock_guard lock(live.mutex);
    // One body a second at most, shared by everyone who asks meanwhile: many readers of a large
    // history hold one copy (and the few that slow readers still take), not one each.
    if (!live.history_body || now - live.history_built_ms >= history_rebuild_every.count() || now < live.history_built_ms) {
      live.history_body = std::make_shared<const std::string>(live.history.json(now));
      live.history_built_ms = now;
    }
    return reply{history_response(live.history_body), {}};
  });
  server.get("/config", [settings = page_settings{cfg.subtitle,
                                                  std::chrono::duration_cast<std::chrono::milliseconds>(cfg.history).count(),
                                                  cfg.stale_after.count()}](const request&) {
    return reply{page_config(settings), {}};
  });
  server.get("/healthz", [&live](const request&) {
    std::lock_guard lock(live.mutex);
    return reply{healthz(live.board, live.streams_open.load()), {}};
  });
  server.post("/updateDashboard", [&live](const request& req) {
    if (live.token && !bearer_matches(header_or_empty(req, "Authorization"), *live.token)) {
      log_unauthorized(live, req);
      return reply{unauthorized(), {}};
    }
    response r;
    {
      std::lock_guard lock(live.mutex);
      r = update_dashboard(live.board, header_or_empty(req, "Content-Type"), req.body, common::unix_ms());
      if (r.status == 201) live.history.record(live.board);
    }
    if (r.status == 201) {
      ++live.updates;
      live.wake_streams();
    } else {
      ++live.refused;
      log::warn("POST /updateDashboard from " + req.peer + " refused: " + std::to_string(r.status) + " " +
                log::escape(r.body));
    }
    return reply{std::move(r), {}};
  });
  const std::size_t max_streams = max_event_streams(cfg);
  server.get("/events", [&live, max_streams](const request& req) {
    if (live.streams_open.fetch_add(1) >= max_streams) {
      --live.streams_open;
      ++live.streams_refused;
      log::info("event stream of " + req.peer + " refused: " + std::to_string(max_streams) + " open");
      return reply{text(503, "error: too many event streams; poll /refreshDashboard"), {}};
    }
    response head{200, "text/event-stream", {}, {{"Cache-Control", "no-store"}, {"X-Accel-Buffering", "no"}}, {}};
    return reply{std::move(head), [&live](std::shared_ptr<event_stream> s) { return serve_events(live, std::move(s)); }};
  });
}

}  // namespace dashboard_server
