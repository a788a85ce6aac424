#pragma once
// The TCP sink: connects out to the receiver, writes records in order from a bounded buffer,
// reconnects with back-off. While disconnected it keeps only the fact that a newer record exists:
// the record is a pure function of the state, so the newest one is encoded when the link is back.
#include <asio.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "common/backoff.hpp"
#include "common/hostport.hpp"
#include "engine/counting.hpp"

namespace engine {

/// What the sink has done, for the stats line.
struct sink_counters {
  std::uint64_t records_sent = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t reconnects = 0;
};

/// Where records come from when they are not a counting state's (engine --kafka: the merged
/// global top N): `append` appends the current record, `any` says whether there is one yet.
struct record_source {
  std::function<void(std::string&)> append;
  std::function<bool()> any;
};

class sink {
public:
  static constexpr std::size_t high_water = 4 << 20;  ///< sources stop reading above this
  static constexpr std::size_t low_water = 1 << 20;   ///< and resume below this

  /// A receiver that takes no byte for `stall_timeout` while records wait is closed and
  /// reconnected (zero: wait for ever, as the original did).
  sink(asio::io_context& io, common::host_port target, counting& state,
       std::chrono::steady_clock::duration stall_timeout);
  /// The same, for records from `source`.
  sink(asio::io_context& io, common::host_port target, record_source source,
       std::chrono::steady_clock::duration stall_timeout);

  /// Called after each counted hashtag: the record goes out now, or the newest one on reconnect.
  void on_update() {
    if (connected_) {
      append_record();
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
  asio::awaitable<void> wait_for_room();

  /// The connect / write / reconnect loop. `first_attempt_done` runs once the first attempt to
  /// connect has succeeded or failed.
  asio::awaitable<void> run(std::function<void()> first_attempt_done);

  /// Stops after what is buffered is written (or the deadline passes).
  asio::awaitable<void> flush_and_stop(std::chrono::steady_clock::duration deadline);

  bool connected() const noexcept { return connected_; }
  std::size_t buffered() const noexcept { return out_.size(); }
  const sink_counters& counters() const noexcept { return counters_; }

private:
  void append_record() {
    if (state_) state_->append_record(out_);
    else source_.append(out_);
  }
  bool any_record() const { return state_ ? state_->events() > 0 : source_.any(); }
  asio::awaitable<void> write_loop();
  asio::awaitable<void> watch_for_close(std::uint64_t generation);
  asio::awaitable<void> watch_for_stall(std::uint64_t generation);

  asio::io_context& io_;
  common::host_port target_;
  counting* state_ = nullptr;  // the TCP engine's state, or
  record_source source_;       // records from elsewhere
  std::chrono::steady_clock::duration stall_timeout_;
  std::chrono::steady_clock::time_point last_progress_{};
  common::backoff delay_;  // reconnect delay; reset when a receiver takes bytes
  sink_counters counters_;
  asio::ip::tcp::socket socket_;
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

}  // namespace engine
