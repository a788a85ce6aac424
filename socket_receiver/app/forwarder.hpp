#pragma once
// The forwarder thread: POSTs the newest record to the dashboard over one libcurl easy handle,
// so one kept-alive connection, while the network thread keeps receiving. Between the two sits
// the latest-wins slot: the dashboard is at most one POST behind, whatever the input rate.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "socket_receiver/latest_slot.hpp"
#include "socket_receiver/stats.hpp"

namespace socket_receiver {

/// The one thread that talks to the dashboard; the network thread only offers records.
class forwarder {
public:
  /// A dashboard that has not accepted the connection within this time is unreachable.
  static constexpr std::chrono::milliseconds connect_timeout{1000};
  /// A POST not answered within this time failed (a hung dashboard); the record is retried.
  static constexpr std::chrono::milliseconds post_timeout{5000};

  /// Forwards to `url`, with "Authorization: Bearer <token>" when a token is given (never
  /// logged); call curl_global_init before start().
  explicit forwarder(std::string url, std::optional<std::string> token = std::nullopt)
      : url_(std::move(url)), token_(std::move(token)) {}
  forwarder(const forwarder&) = delete;
  forwarder& operator=(const forwarder&) = delete;
  /// Stops and joins the thread if still running.
  ~forwarder() { stop(); }

  /// Starts the thread.
  void start();

  /// Hands over the newest record's form body; called by the network thread, never blocks long.
  void offer(std::string body);

  /// Lets the POST in flight finish, tries the waiting record once if no retry delay runs, and joins.
  void stop();

  /// Copies the slot's counters (forwarded, superseded, rejected, failed attempts) into `s`.
  void fill(stats& s);

  /// Called on the forwarder thread after every POST with how it ended and how long it took
  /// (the metrics' latency histogram); set before start().
  void on_post(std::function<void(outcome, double seconds)> f) { on_post_ = std::move(f); }

private:
  void run();

  std::string url_;
  std::optional<std::string> token_;
  std::function<void(outcome, double)> on_post_;
  std::mutex mutex_;
  std::condition_variable cv_;
  latest_slot slot_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace socket_receiver
