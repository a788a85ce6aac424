#pragma once
// How every program stops: SIGINT and SIGTERM are blocked in all threads and taken by one thread
// of their own (sigwait), which calls the program's stop function once. So a stop function may
// do anything a normal thread may (post to an io_context, stop a server, notify a condition
// variable), which a signal handler may not. SIGPIPE is ignored: a closed peer is an error value.
#include <atomic>
#include <functional>
#include <mutex>
#include <thread>

namespace common {

class stop_signals {
public:
  /// Blocks SIGINT and SIGTERM in the calling thread, so in every thread it starts afterwards:
  /// construct it first thing in main, before any other thread exists.
  stop_signals();
  /// Ends the signal thread (a signal that never came no longer matters).
  ~stop_signals();
  stop_signals(const stop_signals&) = delete;
  stop_signals& operator=(const stop_signals&) = delete;

  /// Calls `stop(signo)` from the signal thread on the first SIGINT or SIGTERM; at once if one
  /// came already. Later signals are ignored: the program is already stopping. When this returns,
  /// the previous function is not running and never will: a run() clears it with on_stop({})
  /// before destroying what it refers to. `stop` must be quick and must not call on_stop.
  void on_stop(std::function<void(int)> stop);

  /// The signal that asked the program to stop, 0 if none.
  int received() const noexcept { return received_.load(); }

  /// "SIGINT", "SIGTERM" or "signal N".
  static const char* name(int signo) noexcept;

private:
  void wait_loop();

  std::mutex mutex_;
  std::function<void(int)> stop_;
  std::atomic<int> received_{0};
  std::atomic<bool> closing_{false};
  std::thread thread_;
};

}  // namespace common
