#include "sink.hpp"

#include <asio/experimental/as_tuple.hpp>

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

sink::sink(asio::io_context& io, common::host_port target, top_counter& state)
    : io_(io), target_(std::move(target)), state_(state), socket_(io), wake_(io), room_(io) {
  wake_.expires_at(asio::steady_timer::time_point::max());
  room_.expires_at(asio::steady_timer::time_point::max());
}

awaitable<void> sink::wait_for_room() {
  while (full() && !stopping_) co_await room_.async_wait(use_nothrow);
}

awaitable<void> sink::run(std::function<void()> first_attempt_done) {
  common::backoff delay(100ms, 5s);
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
    delay.reset();
    announced_wait = false;
    lost_reason_.clear();
    socket_.set_option(tcp::no_delay(true));
    connected_ = true;
    if (ever_connected_) ++counters_.reconnects;
    ever_connected_ = true;
    common::log::info("connected to receiver at " + common::to_string(target_));
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
    if (!stopping_) common::log::warn("lost receiver at " + common::to_string(target_) + " (" + lost_reason_ + "); reconnecting");
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
    writing_ = true;
    auto [err, n] = co_await asio::async_write(socket_, asio::buffer(writing), use_nothrow);
    writing_ = false;
    if (err) {
      lost_reason_ = err.message();
      co_return;
    }
    counters_.bytes_sent += n;
    counters_.records_sent += records;
    writing.clear();
    if (out_.size() < low_water) room_.cancel();
  }
  if (lost_reason_.empty()) lost_reason_ = "closed";
}

awaitable<void> sink::watch_for_close(std::uint64_t generation) {
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

}  // namespace engine
