#include "engine_link.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>

#include <algorithm>
#include <exception>
#include <random>
#include <utility>
#include <variant>

#include "common/backoff.hpp"
#include "common/log.hpp"
#include "wire/delivery.hpp"
#include "wire/frame.hpp"

namespace twitter_client {

namespace {
using asio::awaitable;
using asio::ip::tcp;
using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;
constexpr auto use_nothrow = asio::experimental::as_tuple(asio::use_awaitable);

/// How long one address may take to accept the connection.
constexpr std::chrono::seconds connect_timeout{3};
/// "unreachable" is logged on the first failure, then once every this many (about a minute at 5 s).
constexpr int unreachable_log_every = 12;
/// How long an engine has to answer the hello: ours answers at once; the original never does.
/// A welcome that comes later still upgrades the connection.
constexpr std::chrono::milliseconds welcome_timeout{1000};
/// Frames kept for acknowledgement are never sent plainly (they could count twice) to an engine
/// that does not answer, unless none has for this long: it was replaced by one that never will.
constexpr std::chrono::seconds unwelcome_limit{60};
/// Bytes of control frames from the engine held at most while incomplete (they are tiny).
constexpr std::size_t max_control_bytes = 64 * 1024;

std::uint64_t random_session() {
  std::random_device rd;
  std::uint64_t v = 0;
  while (v == 0) v = (std::uint64_t{rd()} << 32) ^ rd();
  return v;
}
}  // namespace

engine_link::engine_link(common::host_port engine, frame_queue& queue, client_stats& stats, bool acknowledged,
                         std::size_t max_unacked)
    : engine_(std::move(engine)),
      queue_(queue),
      stats_(stats),
      offer_acks_(acknowledged),
      max_unacked_(std::max<std::size_t>(1, max_unacked)),
      session_(random_session()) {
  wake_.expires_at(clock::time_point::max());
  deadline_timer_.expires_at(clock::time_point::max());
  // How the coroutine waits for frames: it must not block inside the queue (the same thread
  // watches the socket and the deadline), and polling the queue on a timer would add the period
  // to every live tweet's latency. So the push that ends an empty spell calls back, from the
  // source thread, and the callback only posts a wake-up into this link's io_context.
  queue_.on_ready([this] { asio::post(io_, [this] { wake_.cancel(); }); });
}

engine_link::~engine_link() { queue_.on_ready(nullptr); }

void engine_link::source_finished() {
  asio::post(io_, [this] {
    source_finished_ = true;
    wake_.cancel();
  });
}

void engine_link::give_up_at(clock::time_point deadline) {
  asio::post(io_, [this, deadline] {
    deadline_ = deadline;
    deadline_timer_.expires_at(deadline);  // wakes watch_deadline, which waits for the new instant
  });
}

void engine_link::run() {
  asio::co_spawn(io_, watch_deadline(), asio::detached);
  asio::co_spawn(io_, send_loop(), [this](const std::exception_ptr& e) {
    io_.stop();  // the watchers are no longer needed
    if (e) std::rethrow_exception(e);
  });
  try {
    io_.run();
  } catch (const std::exception& e) {
    common::log::error(std::string("engine link failed: ") + e.what());
  }
  if (!unacked_.empty()) {
    stats_.unconfirmed.fetch_add(unacked_.frames(), std::memory_order_relaxed);
    common::log::warn(std::to_string(unacked_.frames()) + " frames were sent but not acknowledged by the engine at " +
                      common::to_string(engine_) + " before the drain timeout (it may or may not have counted them)");
  }
  const std::size_t left = queue_.frames();
  if (left > 0) {
    stats_.lost.fetch_add(left, std::memory_order_relaxed);
    common::log::error(std::to_string(left) + " frames could not be delivered to the engine at " +
                       common::to_string(engine_) + " before the drain timeout");
  }
}

awaitable<void> engine_link::send_loop() {
  common::backoff delay(100ms, 5000ms);
  int failures = 0;
  while (!past_deadline()) {
    if (socket_.is_open() && peer_gone_) {
      common::log::warn("engine " + common::to_string(engine_) + " closed the connection; reconnecting");
      lost_by_write_ = false;
      close_socket(false);
    }
    if (!socket_.is_open()) {
      if (finished_and_empty()) break;
      // Connect before taking frames: while the engine is away, frames wait in the queue, where
      // the drop-oldest bound applies to all of them.
      const std::error_code err = co_await connect();
      if (err) {
        if (past_deadline()) break;
        const auto wait = delay.next();
        if (failures++ % unreachable_log_every == 0)
          common::log::warn("engine " + common::to_string(engine_) + " unreachable (" + err.message() +
                            "); retrying in " + std::to_string(wait.count()) + " ms, tweets wait in the queue");
        co_await sleep_until(clock::now() + wait);
        continue;
      }
      std::error_code ignored;
      socket_.set_option(tcp::no_delay(true), ignored);  // we batch ourselves: Nagle would only delay live tweets
      if (ever_connected_) {
        stats_.engine_reconnects.fetch_add(1, std::memory_order_relaxed);
        stats_.engine_reconnects_by[lost_by_write_ ? 1 : 0].fetch_add(1, std::memory_order_relaxed);
      }
      stats_.engine_connected = true;
      common::log::info("connected to the engine at " + common::to_string(engine_));
      ever_connected_ = true;
      failures = 0;
      delay.reset();
      asio::co_spawn(io_, watch_engine(++generation_), asio::detached);
      if (!co_await greet()) continue;  // the connection went: reconnect
    }
    apply_acks();
    if (late_welcome_ && !welcomed_) {
      // Our engine, just slow to answer: the frames sent plainly since the hello got the numbers
      // that follow it there, so the numbering goes on after them (they were not kept).
      unacked_.skip(plain_since_hello_);
      welcomed_ = ever_welcomed_ = true;
      common::log::info("the engine acknowledges delivery (it answered late): frames are kept from now on");
    }
    if (welcomed_ && resend_at_ < unacked_.batches().size()) {  // first what the last connection left unacknowledged
      std::size_t written = 0;
      const std::string_view bytes = unacked_.batches()[resend_at_].batch.pending();
      if (co_await write_bytes(bytes, written)) ++resend_at_;
      continue;
    }
    if (welcomed_ && unacked_.frames() >= max_unacked_) {  // wait for acks before sending more
      wake_.expires_at(deadline_);
      co_await wake_.async_wait(use_nothrow);
      continue;
    }
    auto batch = queue_.try_pop();
    if (!batch) {
      if (finished_and_empty()) break;
      // Until a push, an ack, the source's end, the engine leaving or the deadline cancels it.
      wake_.expires_at(deadline_);
      co_await wake_.async_wait(use_nothrow);
      continue;
    }
    if (welcomed_) {
      // Numbered and kept until acknowledged; written from the kept copy, which acks only
      // release between writes (apply_acks), never while one is in flight.
      const std::size_t frames = batch->frames;
      unacked_.add(std::move(*batch));
      std::size_t written = 0;
      const std::string_view bytes = unacked_.batches().back().batch.pending();
      if (co_await write_bytes(bytes, written)) {
        stats_.sent.fetch_add(frames, std::memory_order_relaxed);
        resend_at_ = unacked_.batches().size();
      }
      continue;
    }
    const std::size_t frames = batch->frames;
    if (!co_await write_batch(*batch)) queue_.requeue_front(std::move(*batch));
    else plain_since_hello_ += frames;
  }
  close_socket(true);
}

awaitable<std::error_code> engine_link::connect() {
  auto [resolve_error, found] = co_await resolver_.async_resolve(engine_.host, std::to_string(engine_.port),
                                                                 tcp::resolver::numeric_service, use_nothrow);
  if (resolve_error) co_return resolve_error;
  std::error_code err = asio::error::host_not_found;
  for (const auto& entry : found) {
    if (past_deadline()) break;
    socket_.open(entry.endpoint().protocol(), err);
    if (err) continue;
    asio::steady_timer timeout(io_, std::min(clock::now() + connect_timeout, deadline_));
    auto done = co_await (socket_.async_connect(entry.endpoint(), use_nothrow) || timeout.async_wait(use_nothrow));
    err = done.index() == 0 ? std::get<0>(std::get<0>(done)) : make_error_code(asio::error::timed_out);
    if (!err) co_return err;
    std::error_code ignored;
    socket_.close(ignored);
  }
  co_return err;
}

awaitable<bool> engine_link::greet() {
  welcomed_ = late_welcome_ = false;
  resend_at_ = 0;
  plain_since_hello_ = 0;
  if (!offer_acks_) co_return true;
  std::string hello;
  wire::frame::encode_payload(wire::delivery::encode(wire::delivery::hello{session_, unacked_.first()}), hello);
  std::size_t written = 0;
  if (!co_await write_bytes(hello, written)) co_return false;
  const auto until = std::min(clock::now() + welcome_timeout, deadline_);
  greeting_ = true;
  while (!welcomed_ && !peer_gone_ && socket_.is_open() && clock::now() < until) {
    wake_.expires_at(until);
    co_await wake_.async_wait(use_nothrow);
  }
  greeting_ = false;
  if (welcomed_) {
    common::log::info("the engine acknowledges delivery: frames are kept until it holds them" +
                      std::string(unacked_.empty() ? "" : ", " + std::to_string(unacked_.frames()) + " sent again"));
    ever_welcomed_ = true;
    unwelcome_since_ = {};
    co_return true;
  }
  if (!socket_.is_open() || peer_gone_) co_return false;
  if (ever_welcomed_ && !unacked_.empty()) {
    // Frames kept for an acknowledging engine go only to one that answers (a busy or restarting
    // engine of ours): sent plainly they could count twice. Try again, unless none answered for long.
    if (unwelcome_since_ == clock::time_point{}) unwelcome_since_ = clock::now();
    if (clock::now() - unwelcome_since_ < unwelcome_limit) {
      common::log::warn("engine " + common::to_string(engine_) + " did not acknowledge the hello in time; " +
                        std::to_string(unacked_.frames()) + " frames wait for one that does");
      close_socket(false);
      co_return false;
    }
    common::log::error("engine " + common::to_string(engine_) + " has not acknowledged for " +
                       std::to_string(unwelcome_limit.count()) + " s (replaced by one that does not?): " +
                       std::to_string(unacked_.frames()) + " unacknowledged frames are sent plainly and may count twice");
  }
  if (!unacked_.empty()) {  // this engine does not acknowledge: what the last one did not is sent plainly
    auto left = unacked_.take_all();
    for (auto it = left.rbegin(); it != left.rend(); ++it) queue_.requeue_front(std::move(*it));
  }
  co_return true;
}

void engine_link::apply_acks() {
  if (acked_upto_ < unacked_.first()) return;
  const std::size_t before = unacked_.batches().size();
  stats_.acked.fetch_add(unacked_.ack(acked_upto_), std::memory_order_relaxed);
  // Batches released from the front were sent already on this connection (or were resent).
  const std::size_t gone = before - unacked_.batches().size();
  resend_at_ = resend_at_ > gone ? resend_at_ - gone : 0;
}

awaitable<bool> engine_link::write_bytes(std::string_view bytes, std::size_t& written) {
  auto [err, n] = co_await asio::async_write(socket_, asio::buffer(bytes.data(), bytes.size()), use_nothrow);
  written = n;
  if (err && !(err == asio::error::operation_aborted && past_deadline())) {
    common::log::warn("engine " + common::to_string(engine_) + " connection lost (" + err.message() +
                      "); reconnecting");
    lost_by_write_ = true;
    close_socket(false);
  }
  co_return !err;
}

awaitable<bool> engine_link::write_batch(frame_batch& batch) {
  const std::string_view pending = batch.pending();
  auto [err, written] = co_await asio::async_write(socket_, asio::buffer(pending.data(), pending.size()), use_nothrow);
  // Cancelled at the deadline: the connection is fine and gets the graceful close.
  if (err && !(err == asio::error::operation_aborted && past_deadline())) {
    common::log::warn("engine " + common::to_string(engine_) + " connection lost (" + err.message() +
                      "); reconnecting");
    lost_by_write_ = true;
    close_socket(false);
  }
  // Whole frames handed to the kernel are done; a frame cut in the middle is sent again whole.
  const frame_cut cut = cut_frames(pending, written);
  batch.head += cut.boundary;
  batch.frames -= cut.frames;
  stats_.sent.fetch_add(cut.frames, std::memory_order_relaxed);
  co_return batch.frames == 0;
}

awaitable<void> engine_link::watch_engine(std::uint64_t generation) {
  // The original engine never talks back: a read that completes with an error means it went
  // away (EOF or a reset), noticed even while no frame is being written. Ours sends framed
  // control messages: a welcome after the hello, then acks.
  char chunk[4096];
  std::string held;
  while (true) {
    auto [err, n] = co_await socket_.async_read_some(asio::buffer(chunk), use_nothrow);
    if (generation != generation_ || err == asio::error::operation_aborted) co_return;
    if (err) {
      peer_gone_ = true;
      wake_.cancel();
      co_return;
    }
    held.append(chunk, n);
    std::size_t at = 0;
    bool woke = false;
    while (true) {
      const auto d = wire::frame::decode(std::string_view(held).substr(at));
      if (!d) {
        if (d.state == wire::status::bad) held.clear(), at = 0;  // not ours: ignored, as the original would
        break;
      }
      at += d.consumed;
      if (!wire::delivery::is_control(d.value)) continue;
      if (const auto w = wire::delivery::parse_welcome(d.value)) {
        if (generation == generation_) (greeting_ ? welcomed_ : late_welcome_) = true;
        woke = true;
      } else if (const auto a = wire::delivery::parse_ack(d.value)) {
        acked_upto_ = std::max(acked_upto_, a->upto);
        woke = true;
      }
    }
    held.erase(0, at);
    if (held.size() > max_control_bytes) held.clear();
    if (woke) wake_.cancel();
  }
}

awaitable<void> engine_link::watch_deadline() {
  while (!past_deadline()) co_await deadline_timer_.async_wait(use_nothrow);  // aborted when it moves
  // Interrupt whatever the send loop waits for; it sees the deadline and stops.
  std::error_code ignored;
  resolver_.cancel();
  socket_.cancel(ignored);
  wake_.cancel();
}

awaitable<void> engine_link::sleep_until(clock::time_point until) {
  // wake_ is also cancelled by pushes: only the deadline or the source's end cut a back-off short.
  while (clock::now() < std::min(until, deadline_) && !finished_and_empty()) {
    wake_.expires_at(std::min(until, deadline_));
    co_await wake_.async_wait(use_nothrow);
  }
}

void engine_link::close_socket(bool graceful) {
  if (!socket_.is_open()) return;
  std::error_code ignored;
  if (graceful) {
    // FIN after the last frame; read whatever the engine sent so that close() does not reset.
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    socket_.non_blocking(true, ignored);
    char sink[4096];
    while (socket_.read_some(asio::buffer(sink), ignored) > 0) {
    }
  }
  socket_.close(ignored);
  peer_gone_ = false;
  stats_.engine_connected = false;
}

}  // namespace twitter_client
