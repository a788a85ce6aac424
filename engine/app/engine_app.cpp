#include "engine_app.hpp"

#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>

#include <chrono>
#include <cstdint>
#include <algorithm>
#include <list>
#include <memory>
#include <string>
#include <tuple>

#include "common/log.hpp"
#include "common/net.hpp"
#include "common/stats_line.hpp"
#include "engine/counting.hpp"
#include "engine/stream_decoder.hpp"
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
  engine_app(asio::io_context& io, const config& cfg)
      : io_(io),
        cfg_(cfg),
        state_(cfg),
        tags_(cfg.hashtags, cfg.normalize),
        every_event_(cfg.emit == emit_policy::every_event),
        sink_(io, cfg.out, state_, cfg.receiver_timeout) {}

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
    if (state_.windowed()) asio::co_spawn(io_, slide_loop(), asio::detached);
  }

  /// Begins the clean shutdown; called on the io thread.
  void stop(int signo) { asio::co_spawn(io_, shutdown(signo), asio::detached); }

private:
  struct connection_stats {
    std::uint64_t tweets = 0, skipped = 0;
  };

  // True when the tweet is to be counted; a payload that is not valid UTF-8 is skipped (and counted).
  bool accept_tweet(std::string_view payload, const std::string& peer, connection_stats& cs) {
    if (!wire::utf8::valid(payload)) {
      ++stats_.skipped_utf8;
      if (++cs.skipped <= logged_skips)
        log::warn("skipped a message from " + peer + ": invalid UTF-8 (" + std::to_string(payload.size()) + " bytes)" +
                  (cs.skipped == logged_skips ? "; further ones are only counted" : ""));
      return false;
    }
    ++stats_.tweets;
    ++cs.tweets;
    return true;
  }

  // Counts the tweet's hashtags, a record each (or each that changed the top N, --emit on-change).
  // The output buffer's bound holds between two hashtags, not only between reads: one 100 kB
  // frame can hold 30,000 hashtags, each record as long as the top N's labels.
  awaitable<void> count_hashtags(std::string_view tweet) {
    tags_.start(tweet);
    while (tags_.next()) {
      state_.add(tags_.key(), tags_.display());
      if (every_event_ || state_.changed()) {
        state_.clear_changed();
        sink_.on_update();
      }
      if (sink_.full()) {
        sink_.notify();
        co_await sink_.wait_for_room();
      }
    }
  }

  // Moves the window on once per slide, on processing time. A slide that changes the top N (a
  // count falls, a tag leaves, the window empties) writes a record at once, without a new tweet.
  // A late timer (a long burst of work) catches up with every slide that is due.
  awaitable<void> slide_loop() {
    asio::steady_timer timer(io_);
    auto due = std::chrono::steady_clock::now() + cfg_.slide;
    while (!stopping_) {
      timer.expires_at(due);
      co_await timer.async_wait(use_nothrow);
      if (stopping_) break;
      const auto now = std::chrono::steady_clock::now();
      while (due <= now) {
        state_.slide();
        due += cfg_.slide;
      }
      if (state_.changed()) {
        state_.clear_changed();
        sink_.on_update();
        sink_.notify();
      }
    }
  }

  // Closes a source that has completed no message for the idle timeout (off by default: a quiet
  // real stream must not be cut). Shares the session's fate through the shared pointer.
  struct idle_watch {
    explicit idle_watch(asio::io_context& io) : timer(io) {}
    asio::steady_timer timer;
    tcp::socket* socket = nullptr;
    std::chrono::steady_clock::time_point last_message = std::chrono::steady_clock::now();
    bool done = false;
    bool fired = false;
  };

  awaitable<void> watch_idle(std::shared_ptr<idle_watch> w) {
    const auto limit = cfg_.idle_timeout;
    while (!w->done) {
      w->timer.expires_after(std::clamp<std::chrono::steady_clock::duration>(limit / 4, 10ms, 1s));
      co_await w->timer.async_wait(use_nothrow);
      if (w->done) co_return;
      if (std::chrono::steady_clock::now() - w->last_message > limit) {
        w->fired = true;
        std::error_code ignored;
        w->socket->cancel(ignored);
        co_return;
      }
    }
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
    std::shared_ptr<idle_watch> idle;
    if (cfg_.idle_timeout.count() > 0) {
      idle = std::make_shared<idle_watch>(io_);
      idle->socket = &socket;
      asio::co_spawn(io_, watch_idle(idle), asio::detached);
    }
    std::string closed_by_us;
    while (!stopping_ && !(idle && idle->fired)) {
      std::error_code err;
      std::size_t n = 0;
      // A connection waiting for bytes holds at most its unfinished message, not a read buffer:
      // wait for bytes first, then take a buffer to read them.
      if (socket.available(ec) == 0 && !ec) {
        decoder.shrink_when_idle();
        std::tie(err) = co_await socket.async_wait(tcp::socket::wait_read, use_nothrow);
      }
      if (!err) {
        const auto room = decoder.prepare(read_chunk);
        std::tie(err, n) = co_await socket.async_read_some(asio::buffer(room.data(), room.size()), use_nothrow);
      }
      if (err) {
        if (idle && idle->fired) {
          closed_by_us = "no whole message for " +
                         std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(cfg_.idle_timeout).count()) +
                         " ms (--idle-timeout)";
          log::warn("closing connection from " + peer + ": " + closed_by_us);
          break;
        }
        if (!stopping_) {
          const auto last = decoder.finish();
          if (last && accept_tweet(last.value, peer, cs)) co_await count_hashtags(last.value);
          if (last.state == wire::status::bad) log::warn("connection from " + peer + " " + last.error.message);
          sink_.notify();
        }
        break;
      }
      decoder.commit(n);
      wire::parsed<std::string_view> tweet;
      while ((tweet = decoder.next())) {
        if (idle) idle->last_message = std::chrono::steady_clock::now();
        if (accept_tweet(tweet.value, peer, cs)) co_await count_hashtags(tweet.value);
      }
      sink_.notify();
      if (tweet.state == wire::status::bad) {
        if (cfg_.format == input_format::framed) ++stats_.bad_headers;
        closed_by_us = log::escape(tweet.error.message);
        log::warn("closing connection from " + peer + ": " + closed_by_us + " after " +
                  std::to_string(cs.tweets + cs.skipped) + " messages");
        break;
      }
      if (sink_.full()) co_await sink_.wait_for_room();  // back-pressure: stop reading this source
    }
    if (idle) {
      idle->done = true;
      idle->timer.cancel();
    }
    sessions_.erase(self);
    std::error_code ignored;
    socket.close(ignored);
    log::info("source connection from " + peer + (!closed_by_us.empty() ? " closed by the engine" : " ended") + ": " +
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
  counting state_;
  tweet_tags tags_;
  const bool every_event_;
  sink sink_;
  std::list<tcp::acceptor> acceptors_;
  std::list<tcp::socket*> sessions_;
  bool stopping_ = false;
};

}  // namespace

int run(const config& cfg, common::stop_signals& signals) {
  log::info("counting: " + describe_counting(cfg));
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
  signals.on_stop({});  // app and io go now
  return 0;
}

}  // namespace engine
