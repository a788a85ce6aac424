#include "engine_link.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <thread>

#include "common/log.hpp"
#include "common/backoff.hpp"

namespace twitter_client {

namespace {
using clock = std::chrono::steady_clock;
constexpr int poll_slice_ms = 200;  // how often blocking waits look at the deadline
constexpr std::chrono::seconds connect_timeout{3};

}  // namespace

void engine_link::give_up_at(clock::time_point deadline) {
  deadline_ns_ = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch()).count();
}

bool engine_link::past_deadline() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now().time_since_epoch()).count() >=
         deadline_ns_.load(std::memory_order_relaxed);
}

bool engine_link::connect_once(std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(engine_.port);
  if (const int rc = ::getaddrinfo(engine_.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    error = gai_strerror(rc);
    return false;
  }
  error = "no address";
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    const int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      error = std::strerror(errno);
      continue;
    }
    int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      const auto until = clock::now() + connect_timeout;
      pollfd p{fd, POLLOUT, 0};
      while ((rc = ::poll(&p, 1, poll_slice_ms)) == 0 && clock::now() < until && !past_deadline()) {
      }
      if (rc > 0) {
        int so_error = 0;
        socklen_t len = sizeof so_error;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
        rc = so_error == 0 ? 0 : -1;
        errno = so_error;
      } else {
        rc = -1;
        errno = ETIMEDOUT;
      }
    }
    if (rc == 0) {
      // We batch frames ourselves: Nagle would only delay single live tweets.
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      fd_ = fd;
      ::freeaddrinfo(found);
      return true;
    }
    error = std::strerror(errno);
    ::close(fd);
  }
  ::freeaddrinfo(found);
  return false;
}

void engine_link::close_socket(bool graceful) {
  if (fd_ < 0) return;
  if (graceful) {
    // FIN after the last frame; read whatever the engine sent so that close() does not reset.
    ::shutdown(fd_, SHUT_WR);
    char sink[4096];
    while (::recv(fd_, sink, sizeof sink, MSG_DONTWAIT) > 0) {
    }
  }
  ::close(fd_);
  fd_ = -1;
}

bool engine_link::peer_closed() {
  // The engine never talks back: readable means EOF or a reset, i.e. it went away.
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  char sink[4096];
  const ssize_t n = ::recv(fd_, sink, sizeof sink, MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

bool engine_link::write_batch(frame_batch& batch) {
  const std::string_view pending = batch.pending();
  std::size_t written = 0;
  while (written < pending.size()) {
    const ssize_t n = ::send(fd_, pending.data() + written, pending.size() - written, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      written += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      if (past_deadline()) break;
      pollfd p{fd_, POLLOUT, 0};
      ::poll(&p, 1, poll_slice_ms);
      continue;
    }
    common::log::warn("engine " + common::to_string(engine_) + " connection lost (" +
                      (n < 0 ? std::string(std::strerror(errno)) : std::string("closed")) + "); reconnecting");
    close_socket(false);
    break;
  }
  // Whole frames handed to the kernel are done; a frame cut in the middle is sent again whole.
  const frame_cut cut = cut_frames(pending, written);
  batch.head += cut.boundary;
  batch.frames -= cut.frames;
  stats_.sent.fetch_add(cut.frames, std::memory_order_relaxed);
  return batch.frames == 0;
}

void engine_link::run() {
  common::backoff delay(std::chrono::milliseconds(100), std::chrono::milliseconds(5000));
  int failures = 0;
  while (!past_deadline()) {
    if (fd_ < 0) {
      if (source_finished_ && queue_.frames() == 0) break;
      // Connect before taking frames: while the engine is away, frames wait in the queue, where
      // the drop-oldest bound applies to all of them.
      std::string error;
      if (!connect_once(error)) {
        const auto wait = delay.next();
        if (failures++ % 12 == 0)  // the first failure, then about once a minute
          common::log::warn("engine " + common::to_string(engine_) + " unreachable (" + error + "); retrying in " +
                            std::to_string(wait.count()) + " ms, tweets wait in the queue");
        const auto until = clock::now() + wait;
        while (clock::now() < until && !past_deadline())
          std::this_thread::sleep_for(std::min<clock::duration>(until - clock::now(), std::chrono::milliseconds(50)));
        continue;
      }
      if (ever_connected_) stats_.engine_reconnects.fetch_add(1, std::memory_order_relaxed);
      common::log::info("connected to the engine at " + common::to_string(engine_));
      ever_connected_ = true;
      failures = 0;
      delay.reset();
    }
    auto batch = queue_.pop(std::chrono::milliseconds(poll_slice_ms));
    if (!batch) {
      if (source_finished_ && queue_.frames() == 0) break;
      if (peer_closed()) {
        common::log::warn("engine " + common::to_string(engine_) + " closed the connection; reconnecting");
        close_socket(false);
      }
      continue;
    }
    if (!write_batch(*batch)) queue_.requeue_front(std::move(*batch));
  }
  close_socket(true);
  const std::size_t left = queue_.frames();
  if (left > 0) {
    stats_.lost.fetch_add(left, std::memory_order_relaxed);
    common::log::error(std::to_string(left) + " frames could not be delivered to the engine at " +
                       common::to_string(engine_) + " before the drain timeout");
  }
}

}  // namespace twitter_client
