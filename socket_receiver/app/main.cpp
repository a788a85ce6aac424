// socket_receiver: listens for the engine's ';;' records and forwards the newest top-10 to the
// dashboard over one keep-alive HTTP connection, never falling behind (see forwarder.hpp).
#include <curl/curl.h>

#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <CLI/CLI.hpp>

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "common/log.hpp"
#include "socket_receiver/latest_slot.hpp"
#include "common/hostport.hpp"
#include "wire/record.hpp"

namespace {

namespace log = common::log;
using asio::ip::tcp;
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

// ---- The forwarder thread: one libcurl easy handle, so one kept-alive connection -------------

class forwarder {
public:
  explicit forwarder(std::string url) : url_(std::move(url)) {}
  forwarder(const forwarder&) = delete;
  forwarder& operator=(const forwarder&) = delete;
  ~forwarder() { stop(); }

  void start() { thread_ = std::thread([this] { run(); }); }

  /// Hands over the newest record's body; called by the network thread.
  void offer(std::string body) {
    {
      std::lock_guard lk(mutex_);
      slot_.offer(std::move(body));
    }
    cv_.notify_one();
  }

  /// Lets the POST in flight finish, tries the waiting record once if no retry delay runs, and joins.
  void stop() {
    {
      std::lock_guard lk(mutex_);
      stopping_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

  /// Adds the slot's counters to `s`.
  void fill(socket_receiver::stats& s) {
    std::lock_guard lk(mutex_);
    s.forwarded = slot_.forwarded();
    s.superseded += slot_.superseded();
    s.rejected = slot_.rejected();
    s.failures = slot_.failures();
  }

private:
  void run() {
    CURL* curl = curl_easy_init();
    if (!curl) {
      log::error("cannot create a libcurl handle: nothing will be forwarded");
      return;
    }
    char error_text[CURL_ERROR_SIZE] = {};
    curl_slist* headers = curl_slist_append(nullptr, "Expect:");  // no 100-continue round trip
    curl_easy_setopt(curl, CURLOPT_URL, url_.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_text);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, +[](char*, std::size_t size, std::size_t n, void*) { return size * n; });

    std::unique_lock lk(mutex_);
    while (true) {
      const auto now = socket_receiver::clock::now();
      if (auto body = slot_.take(now)) {
        lk.unlock();
        error_text[0] = '\0';
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body->data());
        const CURLcode rc = curl_easy_perform(curl);
        long status = 0;
        if (rc == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        const std::string why = rc != CURLE_OK ? (error_text[0] ? error_text : curl_easy_strerror(rc))
                                               : "HTTP " + std::to_string(status);
        lk.lock();
        const auto result = socket_receiver::classify(status);
        const std::uint64_t streak = slot_.failing_streak();
        const auto delay = slot_.done(result, socket_receiver::clock::now());
        if (result == socket_receiver::outcome::failed && streak == 0) {
          log::warn("dashboard " + url_ + " unreachable (" + why + "): retrying with back-off, newest record kept");
        } else if (result != socket_receiver::outcome::failed && streak > 0) {
          log::info("dashboard reachable again after " + std::to_string(streak) + " failed attempts");
        }
        if (result == socket_receiver::outcome::rejected) log::warn("dashboard rejected a record (" + why + "); dropped");
        (void)delay;
        continue;
      }
      if (stopping_) break;  // nothing sendable right now: a retry delay or an empty slot
      if (auto at = slot_.ready_at()) {
        cv_.wait_until(lk, *at);
      } else {
        cv_.wait(lk);
      }
    }
    lk.unlock();
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
  }

  std::string url_;
  std::mutex mutex_;
  std::condition_variable cv_;
  socket_receiver::latest_slot slot_;
  bool stopping_ = false;
  std::thread thread_;
};

// ---- The network side: asio coroutines on one thread -----------------------------------------

struct receiver_state {
  explicit receiver_state(std::string url) : out(std::move(url)) {}
  forwarder out;
  socket_receiver::malformed_tally malformed;
  socket_receiver::stats counters;  // network-thread counters; the slot's are added by out.fill()
  std::set<std::shared_ptr<tcp::socket>> sessions;
  bool stopping = false;
  std::uint64_t last_logged_malformed = 0;

  socket_receiver::stats snapshot() {
    socket_receiver::stats s = counters;
    s.malformed = malformed.total();
    out.fill(s);
    return s;
  }
};

/// Takes the complete records of one read; forwards only the newest valid one.
void drain_records(receiver_state& st, wire::record::splitter& split) {
  auto batch = socket_receiver::drain(split, st.malformed);
  st.counters.received += batch.received;
  for (const auto& kind : batch.new_kinds)
    log::warn("malformed record skipped (" + kind + "); further records of this kind are only counted");
  if (!batch.newest) return;
  // Records of the same read are superseded before they ever reach the slot.
  st.counters.superseded += batch.unparsed;
  st.out.offer(socket_receiver::form_body(*batch.newest));
}

asio::awaitable<void> session(receiver_state& st, std::shared_ptr<tcp::socket> socket, std::string peer) {
  wire::record::splitter split;
  std::array<char, 64 * 1024> buffer;
  std::size_t overflows_seen = 0;
  while (true) {
    auto [ec, n] = co_await socket->async_read_some(asio::buffer(buffer), use_tuple);
    if (ec) {
      if (ec != asio::error::eof && ec != asio::error::operation_aborted)
        log::warn("engine connection " + peer + " failed: " + ec.message());
      break;
    }
    split.feed(std::string_view(buffer.data(), n));
    drain_records(st, split);
    if (split.overflows() != overflows_seen) {
      st.counters.overflows += split.overflows() - overflows_seen;
      overflows_seen = split.overflows();
      log::warn("engine " + peer + " sent more than " + std::to_string(wire::record::max_record) +
                " bytes without ';;': cut there and resynchronised on the next ';;'");
    }
  }
  if (split.pending() > 0)
    log::warn("engine " + peer + " closed with " + std::to_string(split.pending()) + " bytes of an unfinished record");
  st.sessions.erase(socket);
  log::info("engine " + peer + " disconnected");
}

asio::awaitable<void> listener(receiver_state& st, tcp::acceptor& acceptor) {
  while (true) {
    auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
    if (ec) {
      if (st.stopping || ec == asio::error::operation_aborted) co_return;
      log::warn("accept failed: " + ec.message());
      continue;
    }
    std::error_code ignored;
    const auto ep = socket.remote_endpoint(ignored);
    std::string peer = common::to_string({ep.address().to_string(), ep.port()});
    auto shared = std::make_shared<tcp::socket>(std::move(socket));
    st.sessions.insert(shared);
    ++st.counters.connections;
    log::info("engine connected from " + peer);
    asio::co_spawn(acceptor.get_executor(), session(st, shared, std::move(peer)), asio::detached);
  }
}

asio::awaitable<void> stats_ticker(receiver_state& st, asio::steady_timer& timer, std::chrono::seconds every) {
  while (true) {
    timer.expires_after(every);
    auto [ec] = co_await timer.async_wait(use_tuple);
    if (ec || st.stopping) co_return;
    const auto s = st.snapshot();
    log::info("stats " + socket_receiver::stats_line(s));
    if (s.malformed != st.last_logged_malformed) {
      log::warn(std::to_string(s.malformed - st.last_logged_malformed) + " malformed records skipped in the last " +
                std::to_string(every.count()) + " s");
      st.last_logged_malformed = s.malformed;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  log::set_program("socket_receiver");
  CLI::App app{"Receives the engine's ';;' top-10 records and forwards the newest one to the dashboard.\n"
               "Latest wins: while a POST is in flight newer records replace the waiting one."};
  std::string listen = "127.0.0.1:7002";
  std::string dashboard = "http://127.0.0.1:5003/updateDashboard";
  unsigned stats_every = 10;
  app.add_option("--listen", listen, "HOST:PORT to listen on for engine connections")->capture_default_str();
  app.add_option("--dashboard", dashboard, "URL to POST each record to (form label/data)")->capture_default_str();
  app.add_option("--stats-interval", stats_every, "Seconds between statistics log lines")
      ->capture_default_str()
      ->check(CLI::Range(1u, 3600u));
  CLI11_PARSE(app, argc, argv);

  const auto where = common::parse_host_port(listen);
  if (!where) {
    log::error("--listen " + listen + ": expected HOST:PORT, e.g. 127.0.0.1:7002");
    return 2;
  }
  if (dashboard.rfind("http://", 0) != 0 && dashboard.rfind("https://", 0) != 0) {
    log::error("--dashboard " + dashboard + ": expected an http:// or https:// URL");
    return 2;
  }
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    log::error("libcurl failed to initialise");
    return 1;
  }

  try {
    asio::io_context io(1);
    std::error_code ec;
    const auto address = asio::ip::make_address(where->host, ec);
    if (ec) {
      log::error("--listen " + listen + ": '" + where->host + "' is not an IP address");
      return 2;
    }
    tcp::acceptor acceptor(io);
    const tcp::endpoint endpoint(address, where->port);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind(endpoint, ec);
    if (ec) {
      log::error("cannot listen on " + listen + ": " + ec.message());
      return 1;
    }
    acceptor.listen();

    receiver_state st(dashboard);
    st.out.start();
    asio::steady_timer ticker(io);
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const std::error_code& err, int signo) {
      if (err) return;
      log::info(std::string("stopping on ") + (signo == SIGINT ? "SIGINT" : "SIGTERM"));
      st.stopping = true;
      std::error_code ignored;
      acceptor.close(ignored);
      ticker.cancel();
      for (const auto& s : st.sessions) s->close(ignored);  // sessions then end on operation_aborted
    });
    asio::co_spawn(io, listener(st, acceptor), asio::detached);
    asio::co_spawn(io, stats_ticker(st, ticker, std::chrono::seconds(stats_every)), asio::detached);
    log::info("listening for the engine on " + listen + ", forwarding to " + dashboard);

    io.run();
    st.out.stop();
    log::info("stopped; stats " + socket_receiver::stats_line(st.snapshot()));
  } catch (const std::exception& e) {
    log::error(std::string("fatal: ") + e.what());
    curl_global_cleanup();
    return 1;
  }
  curl_global_cleanup();
  return 0;
}
