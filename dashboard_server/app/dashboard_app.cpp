#include "dashboard_app.hpp"

#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include "common/duration.hpp"
#include "common/log.hpp"
#include "common/secret.hpp"
#include "common/time.hpp"
#include "common/stats_line.hpp"
#include "dashboard_metrics.hpp"
#include "http_routes.hpp"
#include "http_server.hpp"

namespace dashboard_server {

namespace {

namespace log = common::log;
namespace fs = std::filesystem;

constexpr const char* debian_chartjs = "/usr/share/javascript/chart.js/chart.min.js";

std::optional<std::string> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

/// The page's files from `dir`; Chart.js from `dir` or else from Debian's libjs-chart.js.
std::optional<static_files> load_static(const fs::path& dir) {
  static_files files;
  for (const std::string name : {"index.html", "app.js", "style.css", "favicon.svg", "chart.min.js"}) {
    auto body = read_file(dir / name);
    if (!body && name == "chart.min.js") body = read_file(debian_chartjs);
    if (!body) {
      log::error("cannot read " + (dir / name).string() +
                 (name == "chart.min.js" ? std::string(" nor ") + debian_chartjs + " (install libjs-chart.js)"
                                         : std::string(" (use --static DIR)")));
      return std::nullopt;
    }
    files.emplace(name, make_static_file(name, std::move(*body)));
  }
  return files;
}

fs::path default_static_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path("static") : exe.parent_path().parent_path() / "share" / "static";
}

std::string stats(const http_server& server, const live_state& live) {
  const auto& c = server.counters();
  return common::stats_line()
      .add("updates", live.updates.load())
      .add("refused", live.refused.load())
      .add("unauthorized", live.unauthorized.load())
      .add("requests", c.requests.load())
      .add("event_streams", live.streams_open.load())
      .add("streams_refused", live.streams_refused.load())
      .add("connections", c.connections_open.load())
      .add("bad_requests", c.bad_requests.load())
      .add("timeouts", c.timeouts.load())
      .add("turned_away", c.turned_away.load())
      .str();
}

asio::awaitable<void> stats_loop(asio::steady_timer& timer, std::chrono::milliseconds every, const http_server& server,
                                 const live_state& live) {
  while (true) {
    timer.expires_after(every);
    auto [err] = co_await timer.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
    if (err) co_return;  // cancelled: stopping
    log::info(stats(server, live));
  }
}

}  // namespace

int run(const config& cfg, common::stop_signals& signals) {
  // The token first: a dashboard that must not start says so before anything else happens.
  auto token = common::secret::load_token(token_variable, cfg.token_file, "--token-file");
  if (!token.error.empty()) {
    log::error(token.error);
    return 2;
  }
  if (auto refusal = exposure_refusal(cfg, token.token.has_value())) {
    log::error(*refusal);
    return 2;
  }
  const fs::path dir = cfg.static_dir.empty() ? default_static_dir() : fs::path(cfg.static_dir);
  const auto files = load_static(dir);
  if (!files) return 1;

  asio::io_context io;
  const bool guarded = token.token.has_value();
  live_state live(cfg.history, std::move(token.token));
  live.board.started_ms = common::unix_ms();
  http_server server(io);
  register_routes(server, live, *files, cfg);
  dashboard_metrics metrics(server, live);  // GET /metrics, and every response counted
  metrics.register_route(server);
  server.listen(cfg.listen);  // throws "cannot listen on HOST:PORT: ..." (exit 1)
  log::info("serving http://" + server.local_address() + "/ (static files from " + dir.string() + ", " +
            std::to_string(cfg.threads) + " threads, at most " + std::to_string(max_event_streams(cfg)) +
            " event streams, bodies up to " + std::to_string(max_body) + " bytes, history of " +
            common::format_duration(cfg.history) + ")");
  log::info(guarded ? std::string("updates need the token (Authorization: Bearer)")
                    : cfg.allow_anonymous_updates && !is_loopback_host(cfg.listen.host)
                          ? std::string("updates are open to anyone who reaches this address (--allow-anonymous-updates)")
                          : std::string("updates need no token (loopback only)"));

  auto stats_strand = asio::make_strand(io);
  asio::steady_timer stats_timer(stats_strand);
  if (cfg.flags.stats_interval().count() > 0)
    asio::co_spawn(stats_strand, stats_loop(stats_timer, cfg.flags.stats_interval(), server, live), asio::detached);

  // The io_context cannot run out of work before this handler has run (the acceptor waits), so
  // the references it holds outlive it.
  signals.on_stop([&](int signo) {
    asio::post(io, [&, signo] {
      log::info(std::string("stopping on ") + common::stop_signals::name(signo));
      live.close();   // event streams end
      server.stop();  // no new connections; open ones are closed
      asio::post(stats_strand, [&stats_timer] { stats_timer.cancel(); });
    });
  });

  // Every thread runs the same io_context; each connection's coroutines keep to its own strand.
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < cfg.threads; ++i) threads.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : threads) t.join();
  if (cfg.flags.stats_interval().count() > 0) log::info(stats(server, live));
  log::info("stopped");
  return 0;
}

}  // namespace dashboard_server
