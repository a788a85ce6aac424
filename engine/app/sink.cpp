#include "sink.hpp"

#include <asio/experimental/as_tuple.hpp>

#include <algorithm>
#include <utility>

#include "common/backoff.hpp"
#include "common/log.hpp"

namespace engine {

namespace {
using asio::awaitable;
using asio::ip::tcp;
using namespace std::chrono_literals;
constexpr auto use_nothrow = asio::experimental::as_tuple(asio::use_awaitable);
}  // namespace

sink::sink(asio::io_context& io, common::host_port target, counting& state,
           std::chrono::steady_clock::duration stall_timeout)
    : sink(io, std::move(target), record_source{}, stall_timeout) {
  state_ = &state;
}

sink::sink(asio::io_context& io, common::host_port target, record_source source,
           std::chrono::steady_clock::duration stall_timeout)
    : io_(io),
      target_(std::move(target)),
      source_(std::move(source)),
      stall_timeout_(stall_timeout),
      delay_(100ms, 5s),
      socket_(io),
      wake_(io),
      room_(io) {
  wake_.expires_at(asio::steady_timer::time_point::max());
  room_.expires_at(asio::steady_timer::time_point::max());
}

awaitable<void> sink::wait_for_room() {
  while (full() && !stopping_) co_await room_.async_wait(use_nothrow);
}

awaitable<void> sink::run(std::function<void()> first_attempt_done) {
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
      const auto wait = delay_.next();
      if (!announced_wait) {
        common::log::warn("receiver at " + common::to_string(target_) + " unavailable (" + err.message() +
                          "); processing goes on, retrying with back-off up to 5 s");
        announced_wait = true;
      }
      asio::steady_timer t(io_, wait);
      retry_timer_ = &t;
      co_await t.async_wait(use_nothrow);
      retry_timer_ = nullptr;
      continue;
    }
    // The back-off starts over only once this receiver takes bytes (write_loop): one that
    // accepts and never reads must not be reconnected to at full speed.
    announced_wait = false;
    lost_reason_.clear();
    socket_.set_option(tcp::no_delay(true));
    connected_ = true;
    if (ever_connected_) ++counters_.reconnects;
    ever_connected_ = true;
    common::log::info("connected to receiver at " + common::to_string(target_));
    if (newest_waiting_ && any_record()) {  // newest record first
      append_record();
      ++pending_records_;
    }
    newest_waiting_ = false;
    asio::co_spawn(io_, watch_for_close(++generation_), asio::detached);
    if (stall_timeout_.count() > 0) asio::co_spawn(io_, watch_for_stall(generation_), asio::detached);
    co_await write_loop();
    connected_ = false;
    out_.clear();
    pending_records_ = 0;
    newest_waiting_ = any_record();
    room_.cancel();  // sources blocked on a full buffer carry on
    std::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    if (!stopping_) {
      const auto wait = delay_.next();
      common::log::warn("lost receiver at " + common::to_string(target_) + " (" + lost_reason_ + "); reconnecting in " +
                        std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(wait).count()) + " ms");
      asio::steady_timer t(io_, wait);
      retry_timer_ = &t;
      co_await t.async_wait(use_nothrow);
      retry_timer_ = nullptr;
    }
  }
  wake_.cancel();
}

awaitable<void> sink::flush_and_stop(std::chrono::steady_clock::duration deadline) {
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

awaitable<void> sink::write_loop() {
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
    // Written piece by piece so that the stall watchdog sees progress, not just completion.
    writing_ = true;
    last_progress_ = std::chrono::steady_clock::now();
    std::size_t done = 0;
    while (done < writing.size()) {
      auto [err, n] = co_await socket_.async_write_some(asio::buffer(writing.data() + done, writing.size() - done),
                                                        use_nothrow);
      if (err) {
        writing_ = false;
        if (lost_reason_.empty()) lost_reason_ = err.message();
        co_return;
      }
      done += n;
      counters_.bytes_sent += n;
      delay_.reset();
      last_progress_ = std::chrono::steady_clock::now();
    }
    writing_ = false;
    counters_.records_sent += records;
    writing.clear();
    if (out_.size() < low_water) room_.cancel();
  }
  if (lost_reason_.empty()) lost_reason_ = "closed";
}

awaitable<void> sink::watch_for_stall(std::uint64_t generation) {
  // A receiver that accepts and never reads would hold the writer, and through back-pressure
  // every source, for ever: one that takes no byte for stall_timeout_ is treated as gone.
  asio::steady_timer tick(io_);
  const auto every = std::max<std::chrono::steady_clock::duration>(stall_timeout_ / 4, 10ms);
  while (generation == generation_ && connected_ && !stopping_) {
    tick.expires_after(every);
    co_await tick.async_wait(use_nothrow);
    if (generation != generation_ || !connected_ || stopping_) co_return;
    if (writing_ && std::chrono::steady_clock::now() - last_progress_ > stall_timeout_) {
      lost_reason_ = "receiver took no bytes for " +
                     std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(stall_timeout_).count()) +
                     " ms (hung?)";
      std::error_code ignored;
      socket_.close(ignored);
      wake_.cancel();
      co_return;
    }
  }
}

awaitable<void> sink::watch_for_close(std::uint64_t generation) {
  char byte[512];
  while (true) {
    auto [err, n] = co_await socket_.async_read_some(asio::buffer(byte), use_nothrow);
    if (generation != generation_) co_return;
    if (!err) continue;
    if (connected_ && !stopping_) {
      if (lost_reason_.empty())
        lost_reason_ = err == asio::error::eof ? "receiver closed the connection" : err.message();
      std::error_code ignored;
      socket_.close(ignored);
      wake_.cancel();
    }
    co_return;
  }
}

}  // namespace engine
