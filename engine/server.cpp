#include "server.hpp"

#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <list>
#include <string>
#include <utility>

#include "common/log.hpp"
#include "hashtags.hpp"
#include "top_counter.hpp"
#include "wire/backoff.hpp"
#include "wire/frame.hpp"
#include "wire/hostport.hpp"
#include "wire/utf8.hpp"

namespace engine {

namespace {

using asio::awaitable;
using asio::ip::tcp;
using namespace std::chrono_literals;
constexpr auto use_nothrow = asio::experimental::as_tuple(asio::use_awaitable);

/// Lines longer than this close a `lines` connection (a framed payload is at most 99999 bytes).
constexpr std::size_t max_line = 1 << 20;
/// Read size of a source connection.
constexpr std::size_t read_chunk = 256 * 1024;
/// Log at most this many skipped messages per connection; the rest are counted.
constexpr std::uint64_t logged_skips = 5;

std::string endpoint_text(const tcp::endpoint& ep) { return wire::to_string({ep.address().to_string(), ep.port()}); }

struct counters {
  std::uint64_t tweets = 0;
  std::uint64_t skipped_utf8 = 0;
  std::uint64_t bad_headers = 0;
  std::uint64_t connections = 0;
  std::uint64_t records_sent = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t reconnects = 0;
};

// The TCP sink: connects out to the receiver, writes records in order from a bounded buffer,
// reconnects with back-off. While disconnected it keeps only the fact that a newer record exists:
// the record is a pure function of the state, so the newest one is encoded when the link is back.
class sink {
public:
  static constexpr std::size_t high_water = 4 << 20;  // sources stop reading above this
  static constexpr std::size_t low_water = 1 << 20;   // and resume below this

  sink(asio::io_context& io, wire::host_port target, top_counter& state, counters& stats)
      : io_(io), target_(std::move(target)), state_(state), stats_(stats), socket_(io), wake_(io), room_(io) {
    wake_.expires_at(asio::steady_timer::time_point::max());
    room_.expires_at(asio::steady_timer::time_point::max());
  }

  /// Called after each counted hashtag: the record goes out now, or the newest one on reconnect.
  void on_update() {
    if (connected_) {
      state_.append_record(out_);
      ++pending_records_;
    } else {
      newest_waiting_ = true;
    }
  }

  /// Wakes the writer after a batch of updates.
  void notify() {
    if (!out_.empty()) wake_.cancel();
  }

  bool full() const noexcept { return connected_ && out_.size() >= high_water; }

  /// Waits until the output buffer has room again (or the receiver is gone).
  awaitable<void> wait_for_room() {
    while (full() && !stopping_) co_await room_.async_wait(use_nothrow);
  }

  /// The connect / write / reconnect loop. `first_attempt_done` runs once the first attempt to
  /// connect has succeeded or failed.
  awaitable<void> run(std::function<void()> first_attempt_done) {
    wire::backoff delay(100ms, 5s);
    bool announced_wait = false;
    while (!stopping_) {
      tcp::resolver resolver(io_);
      auto [rerr, results] = co_await resolver.async_resolve(target_.host, std::to_string(target_.port), use_nothrow);
      std::error_code err = rerr;
      if (!err) {
        auto [cerr, ep] = co_await asio::async_connect(socket_, results, use_nothrow);
        err = cerr;
      }
      if (first_attempt_done) std::exchange(first_attempt_done, nullptr)();
      if (stopping_) break;
      if (err) {
        const auto wait = delay.next();
        if (!announced_wait) {
          common::log::warn("receiver at " + wire::to_string(target_) + " unavailable (" + err.message() +
                            "); processing goes on, retrying with back-off up to 5 s");
          announced_wait = true;
        }
        asio::steady_timer t(io_, wait);
        retry_timer_ = &t;
        co_await t.async_wait(use_nothrow);
        retry_timer_ = nullptr;
        continue;
      }
      delay.reset();
      announced_wait = false;
      lost_reason_.clear();
      socket_.set_option(tcp::no_delay(true));
      connected_ = true;
      if (ever_connected_) ++stats_.reconnects;
      ever_connected_ = true;
      common::log::info("connected to receiver at " + wire::to_string(target_));
      if (newest_waiting_ && state_.events() > 0) {  // newest record first
        state_.append_record(out_);
        ++pending_records_;
      }
      newest_waiting_ = false;
      asio::co_spawn(io_, watch_for_close(++generation_), asio::detached);
      co_await write_loop();
      connected_ = false;
      out_.clear();
      pending_records_ = 0;
      newest_waiting_ = state_.events() > 0;
      room_.cancel();  // sources blocked on a full buffer carry on
      std::error_code ignored;
      socket_.shutdown(tcp::socket::shutdown_both, ignored);
      socket_.close(ignored);
      if (!stopping_) common::log::warn("lost receiver at " + wire::to_string(target_) + " (" + lost_reason_ + "); reconnecting");
    }
    wake_.cancel();
  }

  /// Stops after what is buffered is written (or the deadline passes).
  awaitable<void> flush_and_stop(std::chrono::steady_clock::duration deadline) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    asio::steady_timer t(io_);
    while (connected_ && (!out_.empty() || writing_) && std::chrono::steady_clock::now() < until) {
      t.expires_after(5ms);
      co_await t.async_wait(use_nothrow);
    }
    stopping_ = true;
    if (retry_timer_) retry_timer_->cancel();
    std::error_code ignored;
    socket_.cancel(ignored);
    socket_.close(ignored);
    wake_.cancel();
    room_.cancel();
  }

  bool connected() const noexcept { return connected_; }
  std::size_t buffered() const noexcept { return out_.size(); }

private:
  awaitable<void> write_loop() {
    std::string writing;
    while (!stopping_ && socket_.is_open()) {
      if (out_.empty()) {
        wake_.expires_at(asio::steady_timer::time_point::max());
        co_await wake_.async_wait(use_nothrow);
        continue;
      }
      writing.swap(out_);
      const std::uint64_t records = pending_records_;
      pending_records_ = 0;
      writing_ = true;
      auto [err, n] = co_await asio::async_write(socket_, asio::buffer(writing), use_nothrow);
      writing_ = false;
      if (err) {
        lost_reason_ = err.message();
        co_return;
      }
      stats_.bytes_sent += n;
      stats_.records_sent += records;
      writing.clear();
      if (out_.size() < low_water) room_.cancel();
    }
    if (lost_reason_.empty()) lost_reason_ = "closed";
  }

  // The receiver never sends; a completed read means it closed or reset the connection. The
  // generation keeps a watcher of an old connection from closing a newer one.
  awaitable<void> watch_for_close(std::uint64_t generation) {
    char byte[512];
    while (true) {
      auto [err, n] = co_await socket_.async_read_some(asio::buffer(byte), use_nothrow);
      if (generation != generation_) co_return;
      if (!err) continue;
      if (connected_ && !stopping_) {
        lost_reason_ = err == asio::error::eof ? "receiver closed the connection" : err.message();
        std::error_code ignored;
        socket_.close(ignored);
        wake_.cancel();
      }
      co_return;
    }
  }

  asio::io_context& io_;
  wire::host_port target_;
  top_counter& state_;
  counters& stats_;
  tcp::socket socket_;
  asio::steady_timer wake_;  // cancelled to wake the writer
  asio::steady_timer room_;  // cancelled when the buffer drains
  asio::steady_timer* retry_timer_ = nullptr;
  std::string out_;
  std::uint64_t pending_records_ = 0;
  std::uint64_t generation_ = 0;  // counts connections to the receiver
  std::string lost_reason_;
  bool connected_ = false;
  bool ever_connected_ = false;
  bool newest_waiting_ = false;
  bool writing_ = false;
  bool stopping_ = false;
};

class engine_app {
public:
  engine_app(asio::io_context& io, const config& cfg)
      : io_(io), cfg_(cfg), state_(cfg.top), sink_(io, cfg.out, state_, stats_), signals_(io, SIGINT, SIGTERM) {}

  void start() {
    for (const auto& hp : cfg_.in) {
      tcp::resolver resolver(io_);
      const auto results = resolver.resolve(hp.host, std::to_string(hp.port));
      auto& acceptor = acceptors_.emplace_back(io_);
      const tcp::endpoint ep = *results.begin();
      acceptor.open(ep.protocol());
      acceptor.set_option(tcp::acceptor::reuse_address(true));
      acceptor.bind(ep);
      acceptor.listen();
      common::log::info("listening for " + std::string(cfg_.format == input_format::framed ? "framed" : "line") +
                        " tweets on " + endpoint_text(acceptor.local_endpoint()));
    }
    // Sources are accepted once the first attempt to reach the receiver is over, so that with a
    // receiver already listening no early record is folded into "the newest one". Connections
    // made meanwhile wait in the listen backlog.
    asio::co_spawn(io_, sink_.run([this] {
      for (auto& acceptor : acceptors_) asio::co_spawn(io_, accept_loop(acceptor), asio::detached);
    }), asio::detached);
    if (cfg_.stats_interval.count() > 0) asio::co_spawn(io_, stats_loop(), asio::detached);
    signals_.async_wait([this](const std::error_code& err, int signo) {
      if (!err) asio::co_spawn(io_, shutdown(signo), asio::detached);
    });
  }

private:
  awaitable<void> accept_loop(tcp::acceptor& acceptor) {
    while (acceptor.is_open()) {
      auto [err, socket] = co_await acceptor.async_accept(use_nothrow);
      if (err) {
        if (err == asio::error::operation_aborted || !acceptor.is_open()) co_return;
        common::log::warn("accept failed: " + err.message());
        continue;
      }
      asio::co_spawn(io_, session(std::move(socket)), asio::detached);
    }
  }

  struct connection_stats {
    std::uint64_t tweets = 0, skipped = 0;
  };

  // Counts the tweet's hashtags; false if the payload is not valid UTF-8 (the message is skipped).
  bool handle_tweet(std::string_view payload, const std::string& peer, connection_stats& cs) {
    if (!wire::utf8::valid(payload)) {
      ++stats_.skipped_utf8;
      if (++cs.skipped <= logged_skips)
        common::log::warn("skipped a message from " + peer + ": invalid UTF-8 (" + std::to_string(payload.size()) +
                          " bytes)" + (cs.skipped == logged_skips ? "; further ones are only counted" : ""));
      return false;
    }
    ++stats_.tweets;
    ++cs.tweets;
    for_each_hashtag(payload, [this](std::string_view tag) {
      state_.add(tag);
      sink_.on_update();
    });
    return true;
  }

  // Consumes complete messages from buf; returns bytes consumed, or nullopt to close the connection.
  std::optional<std::size_t> consume(std::string_view buf, const std::string& peer, connection_stats& cs) {
    std::size_t at = 0;
    if (cfg_.format == input_format::framed) {
      while (true) {
        const auto d = wire::frame::decode(buf.substr(at));
        if (d.state == wire::frame::status::need_more) return at;
        if (d.state == wire::frame::status::bad_header) {
          ++stats_.bad_headers;
          common::log::warn("closing connection from " + peer + ": " + wire::frame::describe_bad_header(buf.substr(at)) +
                            " after " + std::to_string(cs.tweets + cs.skipped) + " messages");
          return std::nullopt;
        }
        handle_tweet(d.payload, peer, cs);
        at += d.consumed;
      }
    }
    while (true) {
      const auto nl = buf.find('\n', at);
      if (nl == std::string_view::npos) {
        if (buf.size() - at > max_line) {
          common::log::warn("closing connection from " + peer + ": a line longer than " + std::to_string(max_line) +
                            " bytes");
          return std::nullopt;
        }
        return at;
      }
      handle_tweet(buf.substr(at, nl + 1 - at), peer, cs);
      at = nl + 1;
    }
  }

  awaitable<void> session(tcp::socket socket) {
    std::error_code ec;
    const auto remote = socket.remote_endpoint(ec);
    const std::string peer = ec ? "unknown peer" : endpoint_text(remote);
    ++stats_.connections;
    auto self = sessions_.insert(sessions_.end(), &socket);
    common::log::info("source connection from " + peer);
    connection_stats cs;
    std::string buf;
    std::size_t have = 0;
    const std::size_t cap = cfg_.format == input_format::framed ? read_chunk : max_line + read_chunk;
    buf.resize(read_chunk);
    bool closed_by_us = false;
    while (!stopping_) {
      if (buf.size() - have < read_chunk / 4) buf.resize(std::min(cap, buf.size() * 2));
      auto [err, n] = co_await socket.async_read_some(asio::buffer(buf.data() + have, buf.size() - have), use_nothrow);
      if (err) {
        if (have > 0 && !stopping_) {
          if (cfg_.format == input_format::lines) {  // a last line without '\n' still counts
            handle_tweet(std::string_view(buf).substr(0, have), peer, cs);
            have = 0;
            sink_.notify();
          } else {
            common::log::warn("connection from " + peer + " ended inside a frame; " + std::to_string(have) +
                              " bytes dropped");
          }
        }
        break;
      }
      have += n;
      const auto used = consume(std::string_view(buf.data(), have), peer, cs);
      sink_.notify();
      if (!used) {
        closed_by_us = true;
        break;
      }
      if (*used > 0) {
        std::memmove(buf.data(), buf.data() + *used, have - *used);
        have -= *used;
      }
      if (sink_.full()) co_await sink_.wait_for_room();  // back-pressure: stop reading this source
    }
    sessions_.erase(self);
    std::error_code ignored;
    socket.close(ignored);
    common::log::info("source connection from " + peer + (closed_by_us ? " closed by the engine" : " ended") + ": " +
                      std::to_string(cs.tweets) + " tweets" +
                      (cs.skipped ? ", " + std::to_string(cs.skipped) + " skipped (invalid UTF-8)" : ""));
  }

  awaitable<void> stats_loop() {
    asio::steady_timer t(io_);
    auto last = std::chrono::steady_clock::now();
    std::uint64_t last_events = 0;
    while (!stopping_) {
      t.expires_after(cfg_.stats_interval);
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

  void log_stats(double rate) {
    char text[512];
    std::snprintf(text, sizeof text,
                  "stats: tweets=%llu hashtags=%llu distinct=%zu records_sent=%llu bytes_sent=%llu "
                  "skipped_utf8=%llu bad_headers=%llu connections=%llu open=%zu receiver=%s reconnects=%llu "
                  "rate=%.0f hashtags/s",
                  static_cast<unsigned long long>(stats_.tweets), static_cast<unsigned long long>(state_.events()),
                  state_.distinct(), static_cast<unsigned long long>(stats_.records_sent),
                  static_cast<unsigned long long>(stats_.bytes_sent),
                  static_cast<unsigned long long>(stats_.skipped_utf8),
                  static_cast<unsigned long long>(stats_.bad_headers),
                  static_cast<unsigned long long>(stats_.connections), sessions_.size(),
                  sink_.connected() ? "connected" : "disconnected",
                  static_cast<unsigned long long>(stats_.reconnects), rate);
    common::log::info(text);
  }

  awaitable<void> shutdown(int signo) {
    common::log::info(std::string("received ") + (signo == SIGINT ? "SIGINT" : "SIGTERM") +
                      ": closing sources, flushing records to the receiver");
    stopping_ = true;
    std::error_code ignored;
    for (auto& a : acceptors_) a.close(ignored);
    for (auto* s : sessions_) s->cancel(ignored);
    co_await sink_.flush_and_stop(5s);
    if (sink_.buffered() > 0)
      common::log::warn("receiver did not take " + std::to_string(sink_.buffered()) + " buffered bytes in 5 s");
    log_stats(0);
    common::log::info("stopped");
    io_.stop();
  }

  asio::io_context& io_;
  const config& cfg_;
  counters stats_;
  top_counter state_;
  sink sink_;
  asio::signal_set signals_;
  std::list<tcp::acceptor> acceptors_;
  std::list<tcp::socket*> sessions_;
  bool stopping_ = false;
};

}  // namespace

int run(const config& cfg) {
  asio::io_context io(1);
  engine_app app(io, cfg);
  try {
    app.start();
  } catch (const std::system_error& e) {
    common::log::error(std::string("cannot listen: ") + e.what());
    return 1;
  }
  io.run();
  return 0;
}

}  // namespace engine
