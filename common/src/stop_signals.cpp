#include "common/stop_signals.hpp"

#include <pthread.h>
#include <signal.h>

namespace common {

namespace {
sigset_t stop_set() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}
}  // namespace

stop_signals::stop_signals() {
  const sigset_t set = stop_set();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  thread_ = std::thread([this] { wait_loop(); });
}

stop_signals::~stop_signals() {
  closing_ = true;
  pthread_kill(thread_.native_handle(), SIGTERM);  // blocked everywhere: only sigwait takes it
  thread_.join();
}

void stop_signals::wait_loop() {
  const sigset_t set = stop_set();
  while (true) {
    int signo = 0;
    if (sigwait(&set, &signo) != 0) continue;
    if (closing_) return;
    // The stop function runs under the lock, so that once on_stop() has replaced it (a run()
    // returning and destroying what the function refers to) it is never running or called again.
    std::lock_guard lock(mutex_);
    if (received_.load() != 0) continue;  // already stopping
    received_ = signo;
    if (stop_) stop_(signo);
  }
}

void stop_signals::on_stop(std::function<void(int)> stop) {
  std::lock_guard lock(mutex_);
  stop_ = std::move(stop);
  if (const int signo = received_.load(); signo != 0 && stop_) stop_(signo);
}

const char* stop_signals::name(int signo) noexcept {
  switch (signo) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    default: return "signal";
  }
}

}  // namespace common
