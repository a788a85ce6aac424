#include "receiver_app.hpp"

#include <curl/curl.h>

#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>

#include <array>
#include <list>
#include <optional>
#include <stdexcept>
#include <string>

#include "common/log.hpp"
#include "common/net.hpp"
#include "common/secret.hpp"
#include "forwarder.hpp"
#include "socket_receiver/records.hpp"
#include "socket_receiver/stats.hpp"
#include "wire/record.hpp"

namespace socket_receiver {

namespace {

namespace log = common::log;
using asio::awaitable;
using asio::ip::tcp;
constexpr auto use_nothrow = asio::experimental::as_tuple(asio::use_awaitable);

/// Read size of an engine connection.
constexpr std::size_t read_chunk = 64 * 1024;

class receiver_app {
public:
  receiver_app(asio::io_context& io, const config& cfg, std::optional<std::string> token)
      : io_(io), cfg_(cfg), out_(cfg.dashboard, std::move(token)) {}

  void start() {
    acceptor_.emplace(common::listen(io_.get_executor(), cfg_.listen));
    out_.start();
    asio::co_spawn(io_,
                   common::accept_loop(*acceptor_, [this](tcp::socket s) {
                     asio::co_spawn(io_, session(std::move(s)), asio::detached);
                   }, "engine listener"),
                   asio::detached);
    if (cfg_.flags.stats_interval().count() > 0) asio::co_spawn(io_, stats_loop(), asio::detached);
    log::info("listening for the engine on " + common::to_string(acceptor_->local_endpoint()) + ", forwarding to " +
              cfg_.dashboard);
  }

  /// Stops accepting and closes the engine connections; io.run() then returns. On the io thread.
  void stop(int signo) {
    log::info(std::string("stopping on ") + common::stop_signals::name(signo));
    stopping_ = true;
    std::error_code ignored;
    if (acceptor_) acceptor_->close(ignored);
    ticker_.cancel();
    for (auto* s : sessions_) s->close(ignored);  // sessions then end on operation_aborted
  }

  /// Lets the forwarder finish and logs the final stats line; after io.run() returned.
  void finish() {
    out_.stop();
    log::info("stopped; " + stats_line(snapshot()));
  }

private:
  stats snapshot() {
    stats s = counters_;
    s.malformed = malformed_.total();
    out_.fill(s);
    return s;
  }

  /// Takes the complete records of one read; forwards only the newest valid one.
  void drain_records(wire::record::splitter& split, const std::string& peer) {
    auto batch = drain(split, malformed_);
    counters_.received += batch.received;
    for (const auto& kind : batch.new_kinds)
      log::warn("malformed record skipped from " + peer + " (further ones of this kind are only counted): " + kind);
    if (!batch.newest) return;
    // Records of the same read are superseded before they ever reach the slot.
    counters_.superseded += batch.unparsed;
    out_.offer(form_body(*batch.newest));
  }

  awaitable<void> session(tcp::socket socket) {
    std::error_code ec;
    const auto remote = socket.remote_endpoint(ec);
    const std::string peer = ec ? "unknown peer" : common::to_string(remote);
    ++counters_.connections;
    auto self = sessions_.insert(sessions_.end(), &socket);
    log::info("engine connected from " + peer);
    wire::record::splitter split;
    std::array<char, read_chunk> buffer;
    std::size_t overflows_seen = 0;
    while (true) {
      auto [err, n] = co_await socket.async_read_some(asio::buffer(buffer), use_nothrow);
      if (err) {
        if (err != asio::error::eof && err != asio::error::operation_aborted)
          log::warn("engine connection " + peer + " failed: " + err.message());
        break;
      }
      split.feed(std::string_view(buffer.data(), n));
      drain_records(split, peer);
      if (split.overflows() != overflows_seen) {
        counters_.overflows += split.overflows() - overflows_seen;
        overflows_seen = split.overflows();
        log::warn("engine " + peer + " sent more than " + std::to_string(wire::record::max_record) +
                  " bytes without ';;': cut there and resynchronised on the next ';;'");
      }
    }
    // The engine ends each record with ";;\n": the "\n" left after the last one is no loss.
    if (unfinished(split.pending_bytes()))
      log::warn("engine " + peer + " closed with " + std::to_string(split.pending()) +
                " bytes of an unfinished record: \"" + log::escape(split.pending_bytes(), 100) + "\"");
    sessions_.erase(self);
    log::info("engine " + peer + " disconnected");
  }

  awaitable<void> stats_loop() {
    const auto every = cfg_.flags.stats_interval();
    std::uint64_t last_malformed = 0;
    while (!stopping_) {
      ticker_.expires_after(every);
      co_await ticker_.async_wait(use_nothrow);
      if (stopping_) break;
      const stats s = snapshot();
      log::info(stats_line(s));
      if (s.malformed != last_malformed) {
        log::warn(std::to_string(s.malformed - last_malformed) + " malformed records skipped since the last stats line");
        last_malformed = s.malformed;
      }
    }
  }

  asio::io_context& io_;
  const config& cfg_;
  forwarder out_;
  std::optional<tcp::acceptor> acceptor_;
  asio::steady_timer ticker_{io_};
  std::list<tcp::socket*> sessions_;
  malformed_tally malformed_;
  stats counters_;  // the network thread's counters; the forwarder's are added by out_.fill()
  bool stopping_ = false;
};

/// libcurl's global state for the life of run().
struct curl_global {
  curl_global() {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) throw std::runtime_error("libcurl failed to initialise");
  }
  ~curl_global() { curl_global_cleanup(); }
  curl_global(const curl_global&) = delete;
  curl_global& operator=(const curl_global&) = delete;
};

}  // namespace

int run(const config& cfg, common::stop_signals& signals) {
  auto token = common::secret::load_token(token_variable, cfg.token_file, "--token-file");
  if (!token.error.empty()) {
    log::error(token.error);
    return 2;
  }
  if (token.token) log::info("sending the dashboard's update token (Authorization: Bearer)");
  curl_global curl;
  asio::io_context io(1);
  receiver_app app(io, cfg, std::move(token.token));
  try {
    app.start();
  } catch (const std::system_error& e) {
    log::error(e.what());
    return 1;
  }
  signals.on_stop([&](int signo) { asio::post(io, [&app, signo] { app.stop(signo); }); });
  io.run();
  signals.on_stop({});  // app and io go now
  app.finish();
  return 0;
}

}  // namespace socket_receiver
