#pragma once
// The link to the engine: one thread runs its own io_context, whose coroutine writes whole frames
// from the queue to one TCP connection, reconnecting with back-off. With acknowledged delivery
// (wire/delivery.hpp) each connection starts with a hello; an engine that answers with a welcome
// acknowledges frames once its state holds them, and the link keeps every frame until then and
// sends it again after a reconnect: the engine skips what it applied, so each counts once. An
// engine that does not answer (the original) gets plain frames, never split or repeated.
#include <asio.hpp>

#include <chrono>
#include <cstdint>
#include <system_error>

#include "common/hostport.hpp"
#include "stats.hpp"
#include "twitter_client/frame_queue.hpp"
#include "twitter_client/unacked_frames.hpp"

namespace twitter_client {

class engine_link {
public:
  using clock = std::chrono::steady_clock;

  /// Registers with the queue's on_ready; the link must outlive every push into the queue.
  /// `acknowledged`: offer acknowledged delivery; at most `max_unacked` frames wait for an ack.
  engine_link(common::host_port engine, frame_queue& queue, client_stats& stats, bool acknowledged = true,
              std::size_t max_unacked = 100'000);
  ~engine_link();
  engine_link(const engine_link&) = delete;
  engine_link& operator=(const engine_link&) = delete;

  /// Thread body: sends until the source finished and the queue is empty, or the deadline passed.
  void run();
  /// The source has stopped for good: exit once the queue is empty. Any thread.
  void source_finished();
  /// After this instant the link stops trying and counts what is left as lost. Any thread.
  void give_up_at(clock::time_point deadline);

private:
  asio::awaitable<void> send_loop();
  asio::awaitable<std::error_code> connect();
  asio::awaitable<bool> write_batch(frame_batch& batch);
  asio::awaitable<void> watch_engine(std::uint64_t generation);
  asio::awaitable<bool> greet();
  asio::awaitable<bool> write_bytes(std::string_view bytes, std::size_t& written);
  asio::awaitable<void> watch_deadline();
  asio::awaitable<void> sleep_until(clock::time_point until);
  bool past_deadline() const { return clock::now() >= deadline_; }
  bool finished_and_empty() const { return source_finished_ && queue_.frames() == 0 && unacked_.empty(); }
  void apply_acks();
  void close_socket(bool graceful);

  common::host_port engine_;
  frame_queue& queue_;
  client_stats& stats_;
  asio::io_context io_{1};
  asio::ip::tcp::resolver resolver_{io_};
  asio::ip::tcp::socket socket_{io_};
  asio::steady_timer wake_{io_};      // the send loop's waits; cancelled to wake it early
  asio::steady_timer deadline_timer_{io_};
  // Only touched on the io thread (other threads post):
  clock::time_point deadline_ = clock::time_point::max();
  bool source_finished_ = false;
  std::uint64_t generation_ = 0;  // counts connections; a watcher acts only on its own
  bool peer_gone_ = false;        // the engine's side of this connection ended
  bool ever_connected_ = false;
  bool lost_by_write_ = false;    // the last connection ended with a failed write (else the engine closed it)
  // Acknowledged delivery:
  bool offer_acks_;
  std::size_t max_unacked_;
  std::uint64_t session_;          // chosen at random, for the life of the process
  bool welcomed_ = false;          // this connection's engine answered the hello
  bool late_welcome_ = false;      // it answered after the link gave up waiting: upgrade the connection
  bool greeting_ = false;          // greet() is waiting for the welcome
  bool ever_welcomed_ = false;     // an engine at this address acknowledged before
  std::size_t plain_since_hello_ = 0;  // frames sent plainly on this connection after its hello
  clock::time_point unwelcome_since_{};  // acknowledged frames wait for an engine that answers
  std::uint64_t acked_upto_ = 0;   // the highest ack read, applied between writes
  unacked_frames unacked_;
  std::size_t resend_at_ = 0;      // kept batches already sent on this connection
};

}  // namespace twitter_client
