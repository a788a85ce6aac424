#include "receiver_app.hpp"

#include <curl/curl.h>

#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>

#include <array>
#include <list>
#include <optional>
#include <stdexcept>
#include <string>

#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "common/log.hpp"
#include "common/metrics.hpp"
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
    if (metrics_) metrics_->stop();
  }

  /// Serves the metrics on the io thread (docs/observability.md), with the forwarder's POST
  /// latency histogram; before start().
  void serve_metrics(const common::host_port& where) {
    auto registry = std::make_shared<prometheus::Registry>();
    auto& latency = prometheus::BuildHistogram()
                        .Name("trend_socket_receiver_post_duration_seconds")
                        .Help("How long each POST to the dashboard took, by how it ended: delivered (2xx), "
                              "rejected (4xx), failed (no answer in 5 s, or 5xx).")
                        .Register(*registry);
    const prometheus::Histogram::BucketBoundaries buckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                          0.05,   0.1,   0.25,   0.5,   1,    2.5, 5};
    std::array<prometheus::Histogram*, 3> by_outcome{&latency.Add({{"outcome", "delivered"}}, buckets),
                                                     &latency.Add({{"outcome", "rejected"}}, buckets),
                                                     &latency.Add({{"outcome", "failed"}}, buckets)};
    out_.on_post([registry, by_outcome](outcome result, double seconds) {  // holds what it observes into
      by_outcome[result == outcome::delivered ? 0 : result == outcome::rejected ? 1 : 2]->Observe(seconds);
    });
    auto counters = std::make_shared<common::metrics::from_function>([this](common::metrics::families& f) { collect(f); });
    metrics_.emplace(io_.get_executor(), where, [counters, registry] { return common::metrics::text({counters, registry}); });
  }

  /// Lets the forwarder finish and logs the final stats line; after io.run() returned.
  void finish() {
    out_.stop();
    log::info("stopped; " + stats_line(snapshot()));
  }

private:
  // The receiver's counters, read on the io thread; the forwarder's under its lock.
  void collect(common::metrics::families& f) {
    const stats s = snapshot();
    const auto n = [](std::uint64_t v) { return static_cast<double>(v); };
    f.counter("trend_socket_receiver_records_received_total", "Whole records read from engines (';;'-terminated).",
              n(s.received))
        .counter("trend_socket_receiver_records_forwarded_total", "Records the dashboard took (a 2xx to the POST).",
                 n(s.forwarded))
        .counter("trend_socket_receiver_records_superseded_total",
                 "Records replaced by a newer one before they were posted (latest wins).", n(s.superseded))
        .counter("trend_socket_receiver_records_malformed_total", "Records that do not parse, skipped.", n(s.malformed))
        .counter("trend_socket_receiver_records_rejected_total", "Records the dashboard refused (a 4xx), dropped.",
                 n(s.rejected))
        .counter("trend_socket_receiver_oversized_records_total",
                 "Runs of 1 MiB without ';;', cut there (the stream resynchronises on the next ';;').", n(s.overflows))
        .counter("trend_socket_receiver_post_failures_total",
                 "POSTs that failed (no answer within 5 s, a refused connection, a 5xx); the record is retried.",
                 n(s.failures))
        .counter("trend_socket_receiver_connections_total", "Engine connections accepted.", n(s.connections))
        .gauge("trend_socket_receiver_connections_open", "Engine connections open.", n(sessions_.size()));
  }

  stats snapshot() {
    stats s = counters_;
    s.malformed = malformed_.total();
    out_.fill(s);
    return s;
  }

  /// Takes the complete records of one read; forwards only the newest valid one.
  void drain_records(wire::record::splitter& split, cut_record& cut, const std::string& peer) {
    auto batch = drain(split, malformed_, cut);
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
    cut_record cut;  // a record cut at a ';;' inside one of its labels
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
      drain_records(split, cut, peer);
      if (split.overflows() != overflows_seen) {
        counters_.overflows += split.overflows() - overflows_seen;
        overflows_seen = split.overflows();
        log::warn("engine " + peer + " sent more than " + std::to_string(wire::record::max_record) +
                  " bytes without ';;': cut there and resynchronised on the next ';;'");
      }
    }
    if (cut.open)
      log::warn("engine " + peer + " closed inside a record cut at a ';;' in one of its labels: \"" +
                log::escape(cut.text, 100) + "\"");
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
  std::optional<common::metrics::endpoint> metrics_;
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
    if (cfg.metrics) app.serve_metrics(*cfg.metrics);
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
