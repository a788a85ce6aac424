// dashboard_server: the live page. Keeps the newest top-10 posted by the receiver, serves it as
// JSON (polling) and as Server-Sent Events (live push), and serves the page and Chart.js.
#include <httplib.h>
#include <CLI/CLI.hpp>

#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "common/log.hpp"
#include "dashboard_server/routes.hpp"

namespace {

namespace log = common::log;
namespace fs = std::filesystem;

constexpr auto heartbeat_every = std::chrono::seconds(15);
constexpr const char* debian_chartjs = "/usr/share/javascript/chart.js/chart.min.js";

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

/// The board shared by the worker threads; event streams wait on `changed`.
struct live_board {
  std::mutex mutex;
  std::condition_variable changed;
  dashboard_server::board board;
  bool closing = false;

  /// Wakes every event stream so that it ends and the thread pool can join.
  void close() {
    {
      std::lock_guard lk(mutex);
      closing = true;
    }
    changed.notify_all();
  }
};

std::optional<std::string> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

/// The page's files from `dir`; Chart.js from `dir` or else from Debian's libjs-chart.js.
std::optional<dashboard_server::static_files> load_static(const fs::path& dir) {
  dashboard_server::static_files files;
  for (const char* name : {"index.html", "app.js", "style.css", "chart.min.js"}) {
    auto body = read_file(dir / name);
    if (!body && std::string_view(name) == "chart.min.js") body = read_file(debian_chartjs);
    if (!body) {
      log::error("cannot read " + (dir / name).string() +
                 (std::string_view(name) == "chart.min.js" ? std::string(" nor ") + debian_chartjs +
                                                                  " (install libjs-chart.js)"
                                                            : std::string(" (use --static DIR)")));
      return std::nullopt;
    }
    files.emplace(name, dashboard_server::static_file{dashboard_server::content_type_for(name), std::move(*body)});
  }
  return files;
}

fs::path default_static_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path("static") : exe.parent_path().parent_path() / "share" / "static";
}

void send(httplib::Response& res, const dashboard_server::response& r) {
  res.status = r.status;
  for (const auto& [name, value] : r.headers) res.set_header(name, value);
  res.set_content(r.body, r.content_type);
}

}  // namespace

int main(int argc, char** argv) {
  log::set_program("dashboard_server");
  CLI::App app{"Serves the live Top Twitter Hashtags page and takes the receiver's updates.\n"
               "Routes: GET / , GET /refreshDashboard, POST /updateDashboard, GET /events (SSE), GET /healthz"};
  std::string host = "127.0.0.1";
  int port = 5003;
  std::string static_dir;
  std::size_t threads = 16;
  app.add_option("--host", host, "Address to listen on")->capture_default_str();
  app.add_option("--port", port, "TCP port to listen on")->capture_default_str()->check(CLI::Range(1, 65535));
  app.add_option("--static", static_dir,
                 "Folder with index.html, app.js, style.css (and chart.min.js, else Debian's is used); "
                 "default: <bin>/../share/static");
  app.add_option("--threads", threads, "Worker threads; each open connection (an event stream too) holds one")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{4}, std::size_t{256}));
  CLI11_PARSE(app, argc, argv);

  const fs::path dir = static_dir.empty() ? default_static_dir() : fs::path(static_dir);
  auto files = load_static(dir);
  if (!files) return 1;

  // Signals are taken by one thread with sigwait, so the handler may call server.stop() safely.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  live_board live;
  std::atomic<std::size_t> sse_clients{0};
  // Leave workers for the receiver's POSTs and for polling pages: beyond this, pages poll.
  const std::size_t max_sse = threads / 2;

  httplib::Server server;
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server.set_payload_max_length(dashboard_server::max_body);
  server.set_keep_alive_max_count(1000000);  // the receiver keeps one connection for all its POSTs
  server.set_keep_alive_timeout(3);          // idle connections also delay shutdown by this much
  server.set_tcp_nodelay(true);
  // httplib's default also sets SO_REUSEPORT, which would let a second dashboard share the port.
  server.set_socket_options([](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });

  server.Get("/", [&](const httplib::Request&, httplib::Response& res) {
    send(res, dashboard_server::static_asset(*files, "index.html"));
  });
  server.Get(R"(/static/([A-Za-z0-9_.-]+))", [&](const httplib::Request& req, httplib::Response& res) {
    send(res, dashboard_server::static_asset(*files, req.matches[1].str()));
  });
  server.Get("/refreshDashboard", [&](const httplib::Request&, httplib::Response& res) {
    std::unique_lock lk(live.mutex);
    auto r = dashboard_server::refresh_dashboard(live.board);
    lk.unlock();
    send(res, r);
  });
  server.Post("/updateDashboard", [&](const httplib::Request& req, httplib::Response& res) {
    dashboard_server::response r;
    {
      std::lock_guard lk(live.mutex);
      if (req.is_multipart_form_data()) {
        dashboard_server::form fields;
        for (const auto& [name, item] : req.files) fields.emplace_back(name, item.content);
        r = dashboard_server::update_from_form(live.board, fields, now_ms());
      } else {
        r = dashboard_server::update_dashboard(live.board, req.get_header_value("Content-Type"), req.body, now_ms());
      }
    }
    if (r.status == 201) {
      live.changed.notify_all();
    } else {
      log::warn("POST /updateDashboard from " + req.remote_addr + " refused: " + std::to_string(r.status) + " " + r.body);
    }
    send(res, r);
  });
  server.Get("/healthz", [&](const httplib::Request&, httplib::Response& res) {
    std::unique_lock lk(live.mutex);
    auto r = dashboard_server::healthz(live.board, sse_clients.load());
    lk.unlock();
    send(res, r);
  });
  server.Get("/events", [&](const httplib::Request& req, httplib::Response& res) {
    if (sse_clients.fetch_add(1) >= max_sse) {
      sse_clients.fetch_sub(1);
      send(res, dashboard_server::response{503, "text/plain; charset=utf-8",
                                    "error: too many event streams; poll /refreshDashboard", {}});
      return;
    }
    log::info("event stream opened by " + req.remote_addr);
    res.set_header("Cache-Control", "no-store");
    res.set_header("X-Accel-Buffering", "no");
    // Each call waits for a new version (or the heartbeat time) and writes one event; the stream
    // always jumps to the newest board, so a slow browser is never more than one event behind.
    auto sent = std::make_shared<std::optional<std::uint64_t>>();
    res.set_chunked_content_provider(
        "text/event-stream",
        [&live, sent](std::size_t, httplib::DataSink& sink) {
          std::unique_lock lk(live.mutex);
          std::string out;
          if (!*sent) {
            out = dashboard_server::sse_preamble() + dashboard_server::sse_event(live.board);
          } else {
            const bool fresh = live.changed.wait_for(
                lk, heartbeat_every, [&] { return live.closing || live.board.version != **sent; });
            if (live.closing) {
              lk.unlock();
              sink.done();
              return true;
            }
            out = fresh ? dashboard_server::sse_event(live.board) : dashboard_server::sse_heartbeat();
          }
          *sent = live.board.version;
          lk.unlock();
          return sink.write(out.data(), out.size());
        },
        [&sse_clients, peer = req.remote_addr](bool) {
          sse_clients.fetch_sub(1);
          log::info("event stream of " + peer + " closed");
        });
  });
  server.set_error_handler(httplib::Server::HandlerWithResponse(
      [](const httplib::Request& req, httplib::Response& res) -> httplib::Server::HandlerResponse {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    if (res.status == 413) {
      // The issue asks for 400 with a reason; httplib refused the body before any handler ran.
      res.status = 400;
      res.set_content("error: body over the limit of " + std::to_string(dashboard_server::max_body) + " bytes",
                      "text/plain; charset=utf-8");
      log::warn(req.method + " " + req.path + " from " + req.remote_addr + " refused: body over the limit");
    } else {
      res.set_content("error: HTTP " + std::to_string(res.status), "text/plain; charset=utf-8");
    }
    return httplib::Server::HandlerResponse::Handled;
  }));
  server.set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    log::error(req.method + " " + req.path + " failed: " + what);
    res.status = 500;
    res.set_content("error: internal error", "text/plain; charset=utf-8");
  });

  if (!server.bind_to_port(host, port)) {
    log::error("cannot listen on " + host + ":" + std::to_string(port) + " (in use, or not a local address?)");
    return 1;
  }

  std::atomic<bool> stopped_by_signal{false};
  std::thread signal_thread([&] {
    int signo = 0;
    sigwait(&stop_signals, &signo);
    stopped_by_signal = true;
    log::info(std::string("stopping on ") + (signo == SIGINT ? "SIGINT" : "SIGTERM"));
    live.close();  // event streams end, so the thread pool can join
    server.stop();
  });

  log::info("serving http://" + host + ":" + std::to_string(port) + "/ (static files from " + dir.string() + ")");
  const bool ok = server.listen_after_bind();
  if (!stopped_by_signal) {  // listen failed by itself: wake the signal thread to finish
    live.close();
    pthread_kill(signal_thread.native_handle(), SIGTERM);
  }
  signal_thread.join();
  if (!ok && !stopped_by_signal) {
    log::error("the HTTP server stopped unexpectedly");
    return 1;
  }
  log::info("stopped");
  return 0;
}
