#include "engine_app.hpp"

#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>

#include <chrono>
#include <cstdint>
#include <list>
#include <string>

#include "common/log.hpp"
#include "common/net.hpp"
#include "common/stats_line.hpp"
#include "engine/hashtags.hpp"
#include "engine/stream_decoder.hpp"
#include "engine/top_counter.hpp"
#include "sink.hpp"
#include "wire/utf8.hpp"

namespace engine {

namespace {

namespace log = common::log;
using asio::awaitable;
using asio::ip::tcp;
using namespace std::chrono_literals;
constexpr auto use_nothrow = asio::experimental::as_tuple(asio::use_awaitable);

/// Read size of a source connection.
constexpr std::size_t read_chunk = 256 * 1024;
/// Log at most this many skipped messages per connection; the rest are counted.
constexpr std::uint64_t logged_skips = 5;

struct counters {
  std::uint64_t tweets = 0;
  std::uint64_t skipped_utf8 = 0;
  std::uint64_t bad_headers = 0;
  std::uint64_t connections = 0;
};

class engine_app {
public:
  engine_app(asio::io_context& io, const config& cfg) : io_(io), cfg_(cfg), state_(cfg.top), sink_(io, cfg.out, state_) {}

  void start() {
    for (const auto& where : cfg_.in) {
      auto& acceptor = acceptors_.emplace_back(common::listen(io_.get_executor(), where));
      log::info("listening for " + std::string(cfg_.format == input_format::framed ? "framed" : "line") +
                " tweets on " + common::to_string(acceptor.local_endpoint()));
    }
    // Sources are accepted once the first attempt to reach the receiver is over, so that with a
    // receiver already listening no early record is folded into "the newest one". Connections
    // made meanwhile wait in the listen backlog.
    asio::co_spawn(io_, sink_.run([this] {
      for (auto& acceptor : acceptors_)
        asio::co_spawn(io_,
                       common::accept_loop(acceptor, [this](tcp::socket s) {
                         asio::co_spawn(io_, session(std::move(s)), asio::detached);
                       }, "source listener"),
                       asio::detached);
    }), asio::detached);
    if (cfg_.flags.stats_interval().count() > 0) asio::co_spawn(io_, stats_loop(), asio::detached);
  }

  /// Begins the clean shutdown; called on the io thread.
  void stop(int signo) { asio::co_spawn(io_, shutdown(signo), asio::detached); }

private:
  struct connection_stats {
    std::uint64_t tweets = 0, skipped = 0;
  };

  // Counts the tweet's hashtags; a payload that is not valid UTF-8 is skipped (and counted).
  void handle_tweet(std::string_view payload, const std::string& peer, connection_stats& cs) {
    if (!wire::utf8::valid(payload)) {
      ++stats_.skipped_utf8;
      if (++cs.skipped <= logged_skips)
        log::warn("skipped a message from " + peer + ": invalid UTF-8 (" + std::to_string(payload.size()) + " bytes)" +
                  (cs.skipped == logged_skips ? "; further ones are only counted" : ""));
      return;
    }
    ++stats_.tweets;
    ++cs.tweets;
    for_each_hashtag(payload, [this](std::string_view tag) {
      state_.add(tag);
      sink_.on_update();
    });
  }

  awaitable<void> session(tcp::socket socket) {
    std::error_code ec;
    const auto remote = socket.remote_endpoint(ec);
    const std::string peer = ec ? "unknown peer" : common::to_string(remote);
    ++stats_.connections;
    auto self = sessions_.insert(sessions_.end(), &socket);
    log::info("source connection from " + peer);
    connection_stats cs;
    stream_decoder decoder(cfg_.format);
    bool closed_by_us = false;
    while (!stopping_) {
      const auto room = decoder.prepare(read_chunk);
      auto [err, n] = co_await socket.async_read_some(asio::buffer(room.data(), room.size()), use_nothrow);
      if (err) {
        if (!stopping_) {
          const auto last = decoder.finish();
          if (last) handle_tweet(last.value, peer, cs);  // a last line without '\n' still counts
          if (last.state == wire::status::bad) log::warn("connection from " + peer + " " + last.error.message);
          sink_.notify();
        }
        break;
      }
      decoder.commit(n);
      wire::parsed<std::string_view> tweet;
      while ((tweet = decoder.next())) handle_tweet(tweet.value, peer, cs);
      sink_.notify();
      if (tweet.state == wire::status::bad) {
        if (cfg_.format == input_format::framed) ++stats_.bad_headers;
        log::warn("closing connection from " + peer + ": " + log::escape(tweet.error.message) + " after " +
                  std::to_string(cs.tweets + cs.skipped) + " messages");
        closed_by_us = true;
        break;
      }
      if (sink_.full()) co_await sink_.wait_for_room();  // back-pressure: stop reading this source
    }
    sessions_.erase(self);
    std::error_code ignored;
    socket.close(ignored);
    log::info("source connection from " + peer + (closed_by_us ? " closed by the engine" : " ended") + ": " +
              std::to_string(cs.tweets) + " tweets" +
              (cs.skipped ? ", " + std::to_string(cs.skipped) + " skipped (invalid UTF-8)" : ""));
  }

  awaitable<void> stats_loop() {
    asio::steady_timer t(io_);
    auto last = std::chrono::steady_clock::now();
    std::uint64_t last_events = 0;
    while (!stopping_) {
      t.expires_after(cfg_.flags.stats_interval());
      co_await t.async_wait(use_nothrow);
      if (stopping_) break;
      const auto now = std::chrono::steady_clock::now();
      const double secs = std::chrono::duration<double>(now - last).count();
      const auto events = state_.events();
      log_stats(static_cast<double>(events - last_events) / secs);
      last = now;
      last_events = events;
    }
  }

  void log_stats(double hashtags_per_second) {
    const auto& sent = sink_.counters();
    log::info(common::stats_line()
                  .add("tweets", stats_.tweets)
                  .add("hashtags", state_.events())
                  .add("distinct", state_.distinct())
                  .add("records_sent", sent.records_sent)
                  .add("bytes_sent", sent.bytes_sent)
                  .add("skipped_utf8", stats_.skipped_utf8)
                  .add("bad_headers", stats_.bad_headers)
                  .add("connections", stats_.connections)
                  .add("open", sessions_.size())
                  .add("receiver", sink_.connected() ? "connected" : "disconnected")
                  .add("reconnects", sent.reconnects)
                  .add("hashtags_per_s", hashtags_per_second)
                  .str());
  }

  awaitable<void> shutdown(int signo) {
    log::info(std::string("received ") + common::stop_signals::name(signo) +
              ": closing sources, flushing records to the receiver");
    stopping_ = true;
    std::error_code ignored;
    for (auto& a : acceptors_) a.close(ignored);
    for (auto* s : sessions_) s->cancel(ignored);
    co_await sink_.flush_and_stop(5s);
    if (sink_.buffered() > 0)
      log::warn("receiver did not take " + std::to_string(sink_.buffered()) + " buffered bytes in 5 s");
    log_stats(0);
    log::info("stopped");
    io_.stop();
  }

  asio::io_context& io_;
  const config& cfg_;
  counters stats_;
  top_counter state_;
  sink sink_;
  std::list<tcp::acceptor> acceptors_;
  std::list<tcp::socket*> sessions_;
  bool stopping_ = false;
};

}  // namespace

int run(const config& cfg, common::stop_signals& signals) {
  if (!cfg.machida_options.empty()) {
    std::string seen;
    for (const auto& o : cfg.machida_options) seen += " " + o;
    log::info("machida options accepted for compatibility and ignored (the application is built in):" + seen);
  }
  asio::io_context io(1);
  engine_app app(io, cfg);
  try {
    app.start();
  } catch (const std::system_error& e) {
    log::error(e.what());
    return 1;
  }
  signals.on_stop([&](int signo) { asio::post(io, [&app, signo] { app.stop(signo); }); });
  io.run();
  return 0;
}

}  // namespace engine
