#pragma once
// The dashboard's HTTP/1.1 server on asio: one coroutine per connection, none holding a thread
// while it waits, every wait bounded (http.hpp states the limits). Routes are functions of the
// request; an event stream is a coroutine that writes chunks and waits to be woken.
#include <asio.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "common/hostport.hpp"
#include "dashboard_server/http.hpp"
#include "dashboard_server/routes.hpp"

namespace dashboard_server {

/// A request as a route sees it.
struct request {
  const http::request_head& head;
  std::string_view body;
  const std::string& peer;  ///< HOST:PORT of the client
};

/// The open end of an event stream, used from its own connection's coroutine; wake() from anywhere.
class event_stream {
public:
  virtual ~event_stream() = default;
  /// Writes `data` as one chunk; false when the peer is gone or took longer than the write timeout.
  virtual asio::awaitable<bool> write(std::string data) = 0;
  /// Waits until wake(), `most` has passed, or the peer goes away (then false).
  virtual asio::awaitable<bool> wait(std::chrono::steady_clock::duration most) = 0;
  /// Ends the current wait, or the next one if none is running. Safe from any thread.
  virtual void wake() = 0;
  /// HOST:PORT of the client.
  virtual const std::string& peer() const = 0;
};

/// What a stream route runs once the response head is sent; the stream ends when it returns.
using stream_function = std::function<asio::awaitable<void>(std::shared_ptr<event_stream>)>;

/// What a route answers: a whole response, or (stream set) the head of an event stream.
struct reply {
  response r;
  stream_function stream;
};

/// Counters for the stats line.
struct server_counters {
  std::atomic<std::uint64_t> requests{0};        ///< requests answered
  std::atomic<std::uint64_t> bad_requests{0};    ///< malformed heads, bodies, framing
  std::atomic<std::uint64_t> timeouts{0};        ///< connections cut by a deadline
  std::atomic<std::uint64_t> turned_away{0};     ///< connections closed at once: max_connections open
  std::atomic<std::uint64_t> connections_open{0};
};

class http_server {
public:
  using handler = std::function<reply(const request&)>;

  explicit http_server(asio::io_context& io) : io_(io), accept_strand_(asio::make_strand(io)) {}

  /// Routes: an exact path, or every path below a prefix ("/static/"). GET routes answer HEAD too.
  void get(std::string path, handler h) { routes_[{"GET", std::move(path)}] = std::move(h); }
  void post(std::string path, handler h) { routes_[{"POST", std::move(path)}] = std::move(h); }
  void get_prefix(std::string prefix, handler h) { prefixes_.emplace_back(std::move(prefix), std::move(h)); }

  /// Listens on `where` (throws "cannot listen on HOST:PORT: ...") and accepts from now on.
  void listen(const common::host_port& where);
  /// The address actually listened on.
  std::string local_address() const;
  /// Stops accepting and closes every connection (event streams end). Any thread.
  void stop();

  /// Called for every response (any thread) with the route that answered it (the registered path
  /// or prefix; "none" for an unknown path or a request refused before routing) and its status.
  void on_answered(std::function<void(const std::string& route, int status)> f) { answered_ = std::move(f); }

  const server_counters& counters() const noexcept { return counters_; }

private:
  friend class connection;
  const handler* find(const std::string& method, const std::string& path, bool& path_known, std::string& route) const;
  void answered(const std::string& route, int status) const {
    if (answered_) answered_(route, status);
  }
  void on_accept(asio::ip::tcp::socket socket);

  asio::io_context& io_;
  asio::strand<asio::io_context::executor_type> accept_strand_;
  std::unique_ptr<asio::ip::tcp::acceptor> acceptor_;
  std::map<std::pair<std::string, std::string>, handler> routes_;
  std::list<std::pair<std::string, handler>> prefixes_;
  server_counters counters_;
  std::function<void(const std::string&, int)> answered_;
  std::mutex mutex_;  // guards connections_ and stopping_
  std::list<std::weak_ptr<class connection>> connections_;
  bool stopping_ = false;
  bool warned_full_ = false;
};

}  // namespace dashboard_server
