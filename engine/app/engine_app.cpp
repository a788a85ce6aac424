#include "engine_app.hpp"

#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <tuple>

#include "common/duration.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "common/net.hpp"
#include "common/stats_line.hpp"
#include "common/time.hpp"
#include "engine/counting.hpp"
#include "engine/delivery_sessions.hpp"
#include "engine/stream_decoder.hpp"
#include "kafka_engine.hpp"
#include "sink.hpp"
#include "state_store.hpp"
#include "wire/delivery.hpp"
#include "wire/frame.hpp"
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
  std::uint64_t duplicates = 0;  // frames of a delivery session applied before (resent)
  std::uint64_t acked = 0;       // acknowledgements written
  // For the metrics only (read when /metrics is scraped, on the io thread): one add per read,
  // per connection or per slide, never per hashtag.
  std::uint64_t bytes_in = 0;       // bytes read from sources
  std::uint64_t line_too_long = 0;  // lines mode: connections closed for a line over 1 MiB
  std::uint64_t cut_short = 0;      // connections that ended inside a frame
  std::uint64_t idle_closed = 0;    // sources closed by --idle-timeout
  std::uint64_t slides = 0;         // slides of the window made while running
};

/// One source connection. Shared with the acknowledgement writes, which may outlive the read loop.
struct source {
  explicit source(tcp::socket s) : socket(std::move(s)) {}
  tcp::socket socket;
  std::string peer;
  std::uint64_t tweets = 0, skipped = 0;
  // Acknowledged delivery (wire/delivery.hpp); session 0: a plain source, never written to.
  std::uint64_t session = 0;
  std::uint64_t next_frame = 0;
  std::deque<std::pair<std::uint64_t, std::uint64_t>> unacked;  // (lsn, frame), one per batch
  std::uint64_t ack_wanted = 0, ack_sent = 0;
  bool writing = false;
  std::string out;
  bool open = true;
};

class engine_app {
public:
  engine_app(asio::io_context& io, const config& cfg)
      : io_(io),
        cfg_(cfg),
        state_(cfg),
        tags_(cfg.hashtags, cfg.normalize),
        every_event_(cfg.emit == emit_policy::every_event),
        sink_(io, cfg.out, state_, cfg.receiver_timeout),
        turn_free_(io) {
    turn_free_.expires_at(asio::steady_timer::time_point::max());
    slide_wall_ms_ = common::unix_ms();
  }

  /// Reads --state-dir (if any) into the state before anything is accepted.
  void recover() {
    if (cfg_.state_dir.empty()) return;
    store_ = std::make_unique<state_store>(io_, cfg_, describe_state_settings(cfg_));
    const auto r = store_->recover([this](std::string_view state, std::string_view sessions) { return load(state, sessions); },
                                   [this](const wal::record& rec) { replay(rec); });
    if (r.slide_wall_ms > 0) slide_wall_ms_ = r.slide_wall_ms;
    state_.clear_changed();
    catch_up_slides();
    if (state_.events() > 0) sink_.on_update();  // not connected yet: the recovered top N goes out first
    log::info("state: " + std::to_string(state_.distinct()) + " hashtags, " + std::to_string(state_.events()) +
              " hashtag events, " + std::to_string(sessions_.size()) + " delivery sessions");
    events_at_start_ = state_.events();
    store_->on_durable([this](std::uint64_t lsn) { acknowledge_durable(lsn); });
    store_->start([this]() -> std::optional<state_store::capture> {
      if (turn_taken_) return std::nullopt;  // a tweet is half counted: not a state the log can follow
      std::string sessions;
      bytes_out s(sessions);
      sessions_.save(s);
      return state_store::capture{state_.save(), std::move(sessions), slide_wall_ms_};
    });
  }

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
                         asio::co_spawn(io_, session(std::make_shared<source>(std::move(s))), asio::detached);
                       }, "source listener"),
                       asio::detached);
    }), asio::detached);
    if (cfg_.flags.stats_interval().count() > 0) asio::co_spawn(io_, stats_loop(), asio::detached);
    if (state_.windowed()) asio::co_spawn(io_, slide_loop(), asio::detached);
  }

  /// Begins the clean shutdown; called on the io thread.
  void stop(int signo) { asio::co_spawn(io_, shutdown(signo), asio::detached); }

  /// The engine's metrics (docs/observability.md), read from its counters; on the io thread.
  void collect(common::metrics::families& f) const;

private:
  // ---- the state: live, replayed, saved ------------------------------------------------------

  bool load(std::string_view state, std::string_view sessions) {
    if (state.empty()) return true;  // no snapshot: start from nothing
    std::string why;
    if (!state_.restore(state, why)) {
      log::error("state: the snapshot's counts do not restore (" + why + ")");
      return false;
    }
    bytes_in in(sessions);
    if (!sessions_.restore(in)) {
      log::error("state: the snapshot's delivery sessions do not restore");
      return false;
    }
    return true;
  }

  // Applies one logged record exactly as it was applied live (no records are written: the sink
  // sends the newest one when it connects).
  void replay(const wal::record& rec) {
    if (rec.type == wal::record_type::slide) {
      for (std::uint32_t k = 0; k < rec.slides && state_.windowed(); ++k) state_.slide();
      return;
    }
    if (rec.session != 0 && !sessions_.apply(rec.session, rec.frame)) return;
    if (!wire::utf8::valid(rec.text)) return;
    tags_.start(rec.text);
    while (tags_.next()) state_.add(tags_.key(), tags_.display());
  }

  // The slides that fell due while the engine was down, as an engine that never stopped but got
  // no tweet meanwhile would have made them (a whole window's worth empties it: no more needed).
  void catch_up_slides() {
    if (!state_.windowed()) return;
    const std::int64_t slide_ms = std::max<std::int64_t>(1, std::chrono::duration_cast<std::chrono::milliseconds>(cfg_.slide).count());
    const std::int64_t now = common::unix_ms();
    if (now <= slide_wall_ms_) return;
    const std::int64_t due = (now - slide_wall_ms_) / slide_ms;
    if (due <= 0) return;
    const auto slots = static_cast<std::int64_t>(window_settings(cfg_).slots);
    const std::int64_t applied = std::min<std::int64_t>(due, 2 * slots + 1);
    for (std::int64_t k = 0; k < applied; ++k) state_.slide();
    slide_wall_ms_ += due * slide_ms;
    if (store_) store_->log_slides(static_cast<std::uint32_t>(applied), slide_wall_ms_);
    state_.clear_changed();
    log::info("state: " + std::to_string(due) + " slides fell due while the engine was stopped");
  }

  // ---- sources -------------------------------------------------------------------------------

  // True when the tweet is to be counted; a payload that is not valid UTF-8 is skipped (and counted).
  bool accept_tweet(std::string_view payload, source& src) {
    if (!wire::utf8::valid(payload)) {
      ++stats_.skipped_utf8;
      if (++src.skipped <= logged_skips)
        log::warn("skipped a message from " + src.peer + ": invalid UTF-8 (" + std::to_string(payload.size()) +
                  " bytes)" + (src.skipped == logged_skips ? "; further ones are only counted" : ""));
      return false;
    }
    ++stats_.tweets;
    ++src.tweets;
    return true;
  }

  // Counts a tweet's hashtags, a record each (or each that changed the top N, --emit on-change).
  // The output buffer's bound holds between two hashtags, not only between reads: one 100 kB
  // frame can hold 30,000 hashtags, each record as long as the top N's labels. A tweet that must
  // wait for room takes the turn: no other tweet, and no slide, starts until it is done, so that
  // the state changes in the order the log holds (and tags_, shared, is not clobbered).
  // Returns false when it took the turn; finish_tweet() then goes on.
  bool count_tweet(std::uint64_t session, std::uint64_t frame, std::string_view tweet, source& src) {
    if (session != 0 && !sessions_.apply(session, frame)) {  // a resend of a frame applied before
      ++stats_.duplicates;
      return true;
    }
    const bool counted = accept_tweet(tweet, src);
    if (store_ && (counted || session != 0)) store_->log_tweet(session, frame, tweet);
    if (!counted) return true;
    tags_.start(tweet);
    return count_tags();
  }

  // Counts the current tweet's hashtags from where tags_ stands; false when the sink is full.
  bool count_tags() {
    while (tags_.next()) {
      state_.add(tags_.key(), tags_.display());
      if (every_event_ || state_.changed()) {
        state_.clear_changed();
        sink_.on_update();
      }
      if (sink_.full()) {
        turn_taken_ = true;
        return false;
      }
    }
    return true;
  }

  awaitable<void> finish_tweet() {
    do {
      sink_.notify();
      co_await sink_.wait_for_room();
    } while (!count_tags());
    turn_taken_ = false;
    turn_free_.cancel();
  }

  awaitable<void> wait_for_turn() {
    while (turn_taken_) co_await turn_free_.async_wait(use_nothrow);
  }

  // The first frame of a connection may open an acknowledged-delivery session.
  bool open_session(std::string_view payload, const std::shared_ptr<source>& src) {
    const auto hello = wire::delivery::parse_hello(payload);
    if (!hello) return false;
    src->session = hello->session;
    src->next_frame = hello->next;
    const std::uint64_t applied = sessions_.applied(src->session);
    log::info("delivery session " + hex(src->session) + " from " + src->peer + ": frames from " +
              std::to_string(src->next_frame) + ", " + std::to_string(applied) + " applied before");
    write_control(src, wire::delivery::encode(wire::delivery::welcome{applied}));
    return true;
  }

  static std::string hex(std::uint64_t v) {
    char text[20];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(v));
    return text;
  }

  // ---- acknowledgements ------------------------------------------------------------------------

  // After a batch of a session's frames: acknowledge them once their effect is durable (at once
  // without --state-dir: then the engine's memory is all there is).
  void batch_done(const std::shared_ptr<source>& src) {
    if (src->session == 0 || src->next_frame == 0) return;
    const std::uint64_t last = src->next_frame - 1;
    if (!store_) {
      want_ack(src, last);
      return;
    }
    store_->flush();
    if (src->unacked.empty() || src->unacked.back().second != last) src->unacked.emplace_back(store_->last_lsn(), last);
    acknowledge_durable(store_->durable_lsn());
  }

  void acknowledge_durable(std::uint64_t durable) {
    for (const auto& src : session_sources_) {
      std::uint64_t upto = 0;
      while (!src->unacked.empty() && src->unacked.front().first <= durable) {
        upto = src->unacked.front().second;
        src->unacked.pop_front();
      }
      if (upto) want_ack(src, upto);
    }
  }

  void want_ack(const std::shared_ptr<source>& src, std::uint64_t upto) {
    src->ack_wanted = std::max(src->ack_wanted, upto);
    send_ack(src);
  }

  // One write at a time per connection; a newer acknowledgement replaces a waiting one.
  void send_ack(const std::shared_ptr<source>& src) {
    if (src->writing || !src->open || src->ack_wanted <= src->ack_sent) return;
    src->ack_sent = src->ack_wanted;
    write_control(src, wire::delivery::encode(wire::delivery::ack{src->ack_sent}));
    ++stats_.acked;
  }

  // The handler holds the connection: a write may end after the connection's read loop did.
  void write_control(const std::shared_ptr<source>& src, const std::string& payload) {
    src->out.clear();
    wire::frame::encode_payload(payload, src->out);
    src->writing = true;
    asio::async_write(src->socket, asio::buffer(src->out), [this, src](const std::error_code& err, std::size_t) {
      src->writing = false;
      if (!err) send_ack(src);
    });
  }

  awaitable<void> session(std::shared_ptr<source> src) {
    std::error_code ec;
    const auto remote = src->socket.remote_endpoint(ec);
    src->peer = ec ? "unknown peer" : common::to_string(remote);
    ++stats_.connections;
    auto self = sessions_open_.insert(sessions_open_.end(), &src->socket);
    log::info("source connection from " + src->peer);
    stream_decoder decoder(cfg_.format);
    std::shared_ptr<idle_watch> idle;
    if (cfg_.idle_timeout.count() > 0) {
      idle = std::make_shared<idle_watch>(io_);
      idle->socket = &src->socket;
      asio::co_spawn(io_, watch_idle(idle), asio::detached);
    }
    std::string closed_by_us;
    bool first_frame = true;
    std::list<std::shared_ptr<source>>::iterator listed = session_sources_.end();
    while (!stopping_ && !(idle && idle->fired)) {
      std::error_code err;
      std::size_t n = 0;
      // A connection waiting for bytes holds at most its unfinished message, not a read buffer:
      // wait for bytes first, then take a buffer to read them.
      if (src->socket.available(ec) == 0 && !ec) {
        decoder.shrink_when_idle();
        std::tie(err) = co_await src->socket.async_wait(tcp::socket::wait_read, use_nothrow);
      }
      if (!err) {
        const auto room = decoder.prepare(read_chunk);
        std::tie(err, n) = co_await src->socket.async_read_some(asio::buffer(room.data(), room.size()), use_nothrow);
      }
      if (err) {
        if (idle && idle->fired) {
          closed_by_us = "no whole message for " +
                         std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(cfg_.idle_timeout).count()) +
                         " ms (--idle-timeout)";
          log::warn("closing connection from " + src->peer + ": " + closed_by_us);
          ++stats_.idle_closed;
          break;
        }
        if (!stopping_) {
          const auto last = decoder.finish();
          if (turn_taken_) co_await wait_for_turn();
          if (last && !take_frame(last.value, src, first_frame)) co_await finish_tweet();
          if (last.state == wire::status::bad) {
            ++stats_.cut_short;
            log::warn("connection from " + src->peer + " " + last.error.message);
          }
          batch_done(src);
          sink_.notify();
        }
        break;
      }
      decoder.commit(n);
      stats_.bytes_in += n;
      wire::parsed<std::string_view> tweet;
      while ((tweet = decoder.next())) {
        if (idle) idle->last_message = std::chrono::steady_clock::now();
        if (turn_taken_) co_await wait_for_turn();
        if (!take_frame(tweet.value, src, first_frame)) co_await finish_tweet();
        if (src->session != 0 && listed == session_sources_.end())
          listed = session_sources_.insert(session_sources_.end(), src);
      }
      batch_done(src);
      if (store_) store_->flush();
      sink_.notify();
      if (tweet.state == wire::status::bad) {
        if (cfg_.format == input_format::framed) ++stats_.bad_headers;
        else ++stats_.line_too_long;
        closed_by_us = log::escape(tweet.error.message);
        log::warn("closing connection from " + src->peer + ": " + closed_by_us + " after " +
                  std::to_string(src->tweets + src->skipped) + " messages");
        break;
      }
      if (sink_.full()) co_await sink_.wait_for_room();  // back-pressure: stop reading this source
    }
    if (idle) {
      idle->done = true;
      idle->timer.cancel();
    }
    src->open = false;
    if (listed != session_sources_.end()) session_sources_.erase(listed);
    sessions_open_.erase(self);
    std::error_code ignored;
    src->socket.close(ignored);
    log::info("source connection from " + src->peer + (!closed_by_us.empty() ? " closed by the engine" : " ended") +
              ": " + std::to_string(src->tweets) + " tweets" +
              (src->skipped ? ", " + std::to_string(src->skipped) + " skipped (invalid UTF-8)" : ""));
  }

  // One frame of a connection: a hello that opens a delivery session, or a tweet.
  // False when it took the turn (finish_tweet() goes on).
  bool take_frame(std::string_view payload, const std::shared_ptr<source>& src, bool& first_frame) {
    const bool first = std::exchange(first_frame, false);
    if (first && wire::delivery::is_control(payload) && open_session(payload, src)) return true;
    const std::uint64_t frame = src->session ? src->next_frame++ : 0;
    return count_tweet(src->session, frame, payload, *src);
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

  // Moves the window on once per slide, on processing time. A slide that changes the top N (a
  // count falls, a tag leaves, the window empties) writes a record at once, without a new tweet.
  // A late timer (a long burst of work) catches up with every slide that is due.
  awaitable<void> slide_loop() {
    asio::steady_timer timer(io_);
    const auto slide_ms = std::chrono::duration_cast<std::chrono::milliseconds>(cfg_.slide);
    // The next slide is due one slide after the current slot began, on the wall clock (which a
    // recovered state carries over from the engine that wrote it).
    auto due = std::chrono::steady_clock::now() +
               std::chrono::milliseconds(std::max<std::int64_t>(0, slide_wall_ms_ + slide_ms.count() - common::unix_ms()));
    while (!stopping_) {
      timer.expires_at(due);
      co_await timer.async_wait(use_nothrow);
      if (turn_taken_) co_await wait_for_turn();
      if (stopping_) break;
      const auto now = std::chrono::steady_clock::now();
      std::uint32_t count = 0;
      while (due <= now) {
        state_.slide();
        due += cfg_.slide;
        slide_wall_ms_ += slide_ms.count();
        ++count;
        ++stats_.slides;
      }
      if (store_ && count) {
        store_->log_slides(count, slide_wall_ms_);
        store_->flush();
      }
      if (state_.changed()) {
        state_.clear_changed();
        sink_.on_update();
        sink_.notify();
      }
    }
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
    common::stats_line line;
    line.add("tweets", stats_.tweets)
        .add("hashtags", state_.events())
        .add("distinct", state_.distinct())
        .add("state_bytes", state_.memory_bytes())
        .add("records_sent", sent.records_sent)
        .add("bytes_sent", sent.bytes_sent)
        .add("skipped_utf8", stats_.skipped_utf8)
        .add("bad_headers", stats_.bad_headers)
        .add("connections", stats_.connections)
        .add("open", sessions_open_.size())
        .add("receiver", sink_.connected() ? "connected" : "disconnected")
        .add("reconnects", sent.reconnects)
        .add("hashtags_per_s", hashtags_per_second);
    if (store_ || stats_.duplicates || stats_.acked)  // the original's line stays as it was otherwise
      line.add("duplicates", stats_.duplicates).add("acked", stats_.acked);
    if (store_) line.add("durable_lsn", store_->durable_lsn()).add("state", store_->healthy() ? "ok" : "failing");
    log::info(line.str());
  }

  awaitable<void> shutdown(int signo) {
    log::info(std::string("received ") + common::stop_signals::name(signo) +
              ": closing sources, flushing records to the receiver");
    stopping_ = true;
    std::error_code ignored;
    for (auto& a : acceptors_) a.close(ignored);
    for (auto* s : sessions_open_) s->cancel(ignored);
    turn_free_.cancel();
    if (store_) {  // a snapshot now makes the next start instant
      const bool saved = co_await store_->final_checkpoint(5s);
      log::info(saved ? "state: saved a snapshot of everything counted"
                      : "state: no snapshot could be written in 5 s; the log holds what was durable");
    }
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
  delivery_sessions sessions_;
  std::unique_ptr<state_store> store_;
  std::int64_t slide_wall_ms_ = 0;  // when the current slot began
  bool turn_taken_ = false;         // a tweet waits for room in the middle of its hashtags
  asio::steady_timer turn_free_;    // cancelled when it is done
  std::list<tcp::acceptor> acceptors_;
  std::list<tcp::socket*> sessions_open_;
  std::list<std::shared_ptr<source>> session_sources_;
  std::uint64_t events_at_start_ = 0;  // hashtag events recovered from --state-dir
  bool stopping_ = false;
};

void engine_app::collect(common::metrics::families& f) const {
  const auto n = [](auto v) { return static_cast<double>(v); };
  const auto& sent = sink_.counters();
  const auto seconds = [](std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); };
  f.counter("trend_engine_tweets_total", "Tweets counted (valid UTF-8, not a resent duplicate).", n(stats_.tweets))
      .counter("trend_engine_hashtags_total", "Hashtag events counted by this process.",
               n(state_.events() - events_at_start_))
      .counter("trend_engine_records_total", "Records written whole to the receiver.", n(sent.records_sent))
      .counter("trend_engine_received_bytes_total", "Bytes read from source connections.", n(stats_.bytes_in))
      .counter("trend_engine_sent_bytes_total", "Bytes of records written to the receiver.", n(sent.bytes_sent))
      .counter("trend_engine_malformed_frames_total",
               "Input that closed its connection: a frame header that is not 5 ASCII digits, a line over 1 MiB, "
               "or a connection that ended inside a frame.",
               n(stats_.bad_headers), {{"reason", "bad_header"}})
      .counter("trend_engine_malformed_frames_total", "", n(stats_.line_too_long), {{"reason", "line_too_long"}})
      .counter("trend_engine_malformed_frames_total", "", n(stats_.cut_short), {{"reason", "cut_short"}})
      .counter("trend_engine_skipped_messages_total",
               "Messages read and not counted: not valid UTF-8, or a frame of a delivery session applied before.",
               n(stats_.skipped_utf8), {{"reason", "invalid_utf8"}})
      .counter("trend_engine_skipped_messages_total", "", n(stats_.duplicates), {{"reason", "duplicate"}})
      .counter("trend_engine_connections_total", "Source connections accepted.", n(stats_.connections))
      .gauge("trend_engine_connections_open", "Source connections open.", n(sessions_open_.size()))
      .counter("trend_engine_idle_closed_total", "Source connections closed by --idle-timeout.", n(stats_.idle_closed))
      .gauge("trend_engine_distinct_hashtags", "Distinct hashtags held in the state (in the window, with --window).",
             n(state_.distinct()))
      .gauge("trend_engine_state_memory_bytes", "Bytes of memory the counting state holds.", n(state_.memory_bytes()))
      .gauge("trend_engine_receiver_connected", "1 while the engine is connected to the receiver, else 0.",
             sink_.connected() ? 1 : 0)
      .counter("trend_engine_receiver_reconnects_total", "Connections to the receiver after the first.",
               n(sent.reconnects))
      .gauge("trend_engine_output_buffer_bytes", "Bytes of records waiting to be written to the receiver.",
             n(sink_.buffered()))
      .counter("trend_engine_slides_total", "Slides of the window made (--window).", n(stats_.slides))
      .gauge("trend_engine_window_seconds", "The counting window (--window); 0: all-time.", seconds(cfg_.window))
      .gauge("trend_engine_slide_seconds", "How often the window moves on (--slide); 0: all-time.", seconds(cfg_.slide))
      .info("trend_engine_settings_info", "The counting and trend settings, as labels.",
            {{"top", std::to_string(cfg_.top)},
             {"input_format", cfg_.format == input_format::lines ? "lines" : "framed"},
             {"hashtags", cfg_.hashtags == hashtag_rule::twitter_text ? "twitter-text" : "python"},
             {"normalize", cfg_.normalize == normalization::nfkc_lower ? "nfkc-lower" : "none"},
             {"window", common::format_duration(cfg_.window)},
             {"slide", common::format_duration(cfg_.slide)},
             {"score", cfg_.score == score_kind::trend ? "trend" : "count"},
             {"min_count", std::to_string(cfg_.min_count)},
             {"emit", cfg_.emit == emit_policy::on_change ? "on-change" : "every-event"},
             {"durable", store_ ? "true" : "false"}})
      .counter("trend_engine_acks_total", "Acknowledgements written to delivery sessions (--delivery acked clients).",
               n(stats_.acked))
      .gauge("trend_engine_delivery_sessions", "Delivery sessions remembered (at most 4,096).", n(sessions_.size()));
  if (!store_) return;
  f.gauge("trend_engine_state_logged_lsn", "The last log sequence number handed out (--state-dir).", n(store_->last_lsn()))
      .gauge("trend_engine_state_durable_lsn", "The highest log sequence number on the disk by the --fsync policy.",
             n(store_->durable_lsn()))
      .gauge("trend_engine_state_healthy", "1 while writes to --state-dir succeed; 0 while they fail (nothing is "
             "acknowledged then).", store_->healthy() ? 1 : 0)
      .counter("trend_engine_state_write_failures_total",
               "Failed writes to --state-dir (a log write, an fdatasync, a snapshot) and log overflows.",
               n(store_->write_failures()))
      .counter("trend_engine_state_snapshots_total", "Snapshots written to --state-dir.", n(store_->snapshots_written()));
}

/// --dump-state: the state in --state-dir as JSON lines, first seen first; nothing is written.
int dump_state(const config& cfg) {
  counting state(cfg);
  delivery_sessions sessions;
  tweet_tags tags(cfg.hashtags, cfg.normalize);
  state_store::read_only(
      cfg.state_dir, describe_state_settings(cfg),
      [&](std::string_view bytes, std::string_view saved_sessions) {
        std::string why;
        if (bytes.empty()) return true;
        bytes_in in(saved_sessions);
        return state.restore(bytes, why) && sessions.restore(in);
      },
      [&](const wal::record& rec) {
        if (rec.type == wal::record_type::slide) {
          for (std::uint32_t k = 0; k < rec.slides && state.windowed(); ++k) state.slide();
          return;
        }
        if (rec.session != 0 && !sessions.apply(rec.session, rec.frame)) return;
        if (!wire::utf8::valid(rec.text)) return;
        tags.start(rec.text);
        while (tags.next()) state.add(tags.key(), tags.display());
      });
  std::string out;
  state.for_each_tag([&](std::string_view tag, std::int64_t number, std::int64_t in_window) {
    out = "{\"tag\": \"";
    for (const char c : tag) {  // JSON string escapes for what can appear in a hashtag
      if (c == '"' || c == '\\') out.push_back('\\');
      if (static_cast<unsigned char>(c) < 0x20) {
        char esc[8];
        std::snprintf(esc, sizeof esc, "\\u%04x", static_cast<unsigned char>(c));
        out += esc;
        continue;
      }
      out.push_back(c);
    }
    out += "\", \"count\": " + std::to_string(in_window);
    if (state.windowed()) out += ", \"score\": " + std::to_string(number);
    out += "}\n";
    std::fwrite(out.data(), 1, out.size(), stdout);
  });
  std::fflush(stdout);
  return 0;
}

}  // namespace

int run(const config& cfg, common::stop_signals& signals) {
  if (cfg.dump_state) return dump_state(cfg);
  if (!cfg.kafka.empty()) return run_kafka(cfg, signals);  // engines in a consumer group (docs/scale-out.md)
  log::info("counting: " + describe_counting(cfg));
  if (!cfg.machida_options.empty()) {
    std::string seen;
    for (const auto& o : cfg.machida_options) seen += " " + o;
    log::info("machida options accepted for compatibility and ignored (the application is built in):" + seen);
  }
  asio::io_context io(1);
  engine_app app(io, cfg);
  try {
    app.recover();
    app.start();
  } catch (const std::system_error& e) {
    log::error(e.what());
    return 1;
  } catch (const std::runtime_error& e) {
    log::error(e.what());
    return 1;
  }
  // Scrapes run on the io thread, where the counters live: no lock, no atomic on the hot path.
  std::optional<common::metrics::endpoint> metrics;
  if (cfg.metrics) {
    auto families = std::make_shared<common::metrics::from_function>([&app](common::metrics::families& f) { app.collect(f); });
    metrics.emplace(io.get_executor(), *cfg.metrics, [families] { return common::metrics::text({families}); });
  }
  signals.on_stop([&](int signo) { asio::post(io, [&app, signo] { app.stop(signo); }); });
  io.run();
  signals.on_stop({});  // app and io go now
  return 0;
}

}  // namespace engine
