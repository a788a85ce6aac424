#include "http_server.hpp"

#include <asio/experimental/as_tuple.hpp>

#include <algorithm>
#include <array>
#include <exception>

#include "common/log.hpp"
#include "common/net.hpp"

namespace dashboard_server {

namespace log = common::log;
using asio::awaitable;
using asio::ip::tcp;
using clock_type = std::chrono::steady_clock;
constexpr auto use_nothrow = asio::experimental::as_tuple(asio::use_awaitable);

/// Bytes asked of the socket per read.
constexpr std::size_t read_size = 16 * 1024;
/// After refusing a request, its rest is read and dropped for at most this long and this much.
constexpr std::chrono::seconds linger_time{2};
constexpr std::size_t linger_bytes = 4 * 1024 * 1024;

/// One client connection: its coroutines (serve, the watchdog, a stream's reader) run on one strand.
class connection : public std::enable_shared_from_this<connection> {
public:
  connection(http_server& server, tcp::socket socket, asio::strand<asio::io_context::executor_type> strand)
      : server_(server), socket_(std::move(socket)), strand_(strand), watchdog_(strand) {
    std::error_code ec;
    const auto remote = socket_.remote_endpoint(ec);
    peer_ = ec ? "unknown peer" : common::to_string(remote);
  }

  void start() {
    auto self = shared_from_this();
    asio::co_spawn(strand_, [self]() -> awaitable<void> { co_await self->watchdog(); }, asio::detached);
    asio::co_spawn(strand_, [self]() -> awaitable<void> { co_await self->serve(); }, asio::detached);
  }

  /// Closes the socket from its strand: every pending operation ends.
  void close_soon() {
    asio::post(strand_, [self = shared_from_this()] { self->close(); });
  }

  /// Writes all of `data`, then all of `more`, within the write timeout; false when the peer is
  /// gone or too slow.
  awaitable<bool> write_all(std::string_view data, std::string_view more = {}) {
    deadline_ = clock_type::now() + http::write_timeout;
    kick_watchdog();
    const std::array<asio::const_buffer, 2> buffers{asio::buffer(data.data(), data.size()),
                                                    asio::buffer(more.data(), more.size())};
    auto [err, n] = co_await asio::async_write(socket_, buffers, use_nothrow);
    deadline_ = clock_type::time_point::max();
    co_return !err;
  }

  /// Reads and drops whatever the peer sends until it closes (or the connection is closed).
  awaitable<void> drain_until_closed() {
    std::array<char, 1024> sink;
    while (true) {
      auto [err, n] = co_await socket_.async_read_some(asio::buffer(sink), use_nothrow);
      if (err) co_return;
    }
  }

  const std::string& peer() const { return peer_; }
  asio::strand<asio::io_context::executor_type> strand() const { return strand_; }

private:
  void close() {
    std::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    watchdog_.cancel();
  }

  void kick_watchdog() { watchdog_.cancel(); }

  // Closes the connection once deadline_ passes; serve() moves deadline_ for each phase.
  awaitable<void> watchdog() {
    while (socket_.is_open()) {
      watchdog_.expires_at(deadline_);
      co_await watchdog_.async_wait(use_nothrow);
      if (socket_.is_open() && clock_type::now() >= deadline_) {
        ++server_.counters_.timeouts;
        log::debug("connection from " + peer_ + " timed out " + phase_);
        close();
      }
    }
  }

  void set_deadline(std::chrono::seconds from_now, const char* phase) {
    deadline_ = clock_type::now() + from_now;
    phase_ = phase;
    kick_watchdog();
  }

  // Reads more bytes into in_; false on EOF, error or a deadline.
  awaitable<bool> read_more() {
    const std::size_t old = in_.size();
    in_.resize(old + read_size);
    auto [err, n] = co_await socket_.async_read_some(asio::buffer(in_.data() + old, read_size), use_nothrow);
    in_.resize(old + (err ? 0 : n));
    co_return !err;
  }

  // Answers and closes: for requests whose rest cannot be read safely. The peer may still be
  // sending a body: closing with unread bytes would reset the connection and could destroy the
  // answer before the peer reads it, so the rest is read and dropped first, within bounds.
  awaitable<void> refuse(int status, const std::string& why, const http::request_head* h = nullptr) {
    ++server_.counters_.bad_requests;
    server_.answered("none", status);
    // Everything from the request is escaped: a %0a in a path must not start a log line of its own.
    log::warn((h ? h->method + " " + log::escape(h->path) + " from " : "bad request from ") + peer_ + " refused: " +
              std::to_string(status) + " " + log::escape(why));
    if (!co_await write_all(http::serialize(text(status, "error: " + why), false))) co_return;
    std::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    deadline_ = clock_type::now() + linger_time;
    kick_watchdog();
    std::array<char, 16 * 1024> sink;
    for (std::size_t dropped = 0; dropped < linger_bytes;) {
      auto [err, n] = co_await socket_.async_read_some(asio::buffer(sink), use_nothrow);
      if (err) break;
      dropped += n;
    }
  }

  awaitable<void> serve() {
    ++server_.counters_.connections_open;
    try {
      co_await serve_requests();
    } catch (const std::exception& e) {
      log::error("connection from " + peer_ + " failed: " + e.what());
    }
    close();
    --server_.counters_.connections_open;
  }

  awaitable<void> serve_requests() {
    while (true) {
      // The head: the first byte within the idle timeout, the whole head within head_timeout of it.
      set_deadline(http::idle_timeout, "waiting for a request");
      wire::parsed<http::request_head> head = wire::parsed<http::request_head>::need_more();
      bool started = false;
      while (true) {
        if (!in_.empty()) {
          if (!started) {
            set_deadline(http::head_timeout, "reading a request head");
            started = true;
          }
          // Parse again only once a line ended: a trickling head costs one scan per line.
          if (in_.find('\n') != std::string::npos || in_.size() > http::max_head) {
            head = http::parse_head(in_);
            if (head.state != wire::status::need_more) break;
          }
        }
        if (!co_await read_more()) co_return;
      }
      if (!head) {
        const bool too_long = head.error.offset == http::max_head;
        co_await refuse(too_long ? 431 : 400, head.error.message);
        co_return;
      }
      in_.erase(0, head.consumed);
      const http::request_head& h = *head;

      // The body, held to max_body however it is framed.
      const auto framing = http::framing(h, max_body);
      if (!framing) {
        co_await refuse(400, framing.error.message, &h);
        co_return;
      }
      std::string body;
      if (framing->how != http::body_framing::kind::none) {
        if (http::expects_continue(h) && !co_await write_all("HTTP/1.1 100 Continue\r\n\r\n")) co_return;
        set_deadline(http::body_timeout, "reading a request body");
        if (framing->how == http::body_framing::kind::length) {
          const auto length = static_cast<std::size_t>(framing->length);
          while (in_.size() < length)
            if (!co_await read_more()) co_return;
          if (in_.size() == length) {
            body = std::move(in_);  // the usual case: no copy
            in_.clear();
          } else {
            body = in_.substr(0, length);
            in_.erase(0, length);
          }
        } else {
          http::chunked_decoder decoder(max_body);
          while (true) {
            in_.erase(0, decoder.feed(in_));
            if (decoder.state() != wire::status::need_more) break;
            if (!co_await read_more()) co_return;
          }
          if (decoder.state() == wire::status::bad) {
            co_await refuse(400, decoder.error().message, &h);  // the rest is never read, nor held
            co_return;
          }
          body = std::move(decoder.body());
        }
      }
      if (in_.capacity() > 4 * read_size && in_.size() < read_size) in_.shrink_to_fit();
      deadline_ = clock_type::time_point::max();

      // The route.
      const bool head_only = h.method == "HEAD";
      bool path_known = false;
      std::string route_name = "none";
      const http_server::handler* route = server_.find(head_only ? "GET" : h.method, h.path, path_known, route_name);
      reply answer;
      if (!route) {
        answer.r = path_known ? text(405, "error: method not allowed") : text(404, "error: not found");
        log::info(h.method + " " + log::escape(h.path) + " from " + peer_ + ": " + std::to_string(answer.r.status));
      } else {
        try {
          answer = (*route)(request{h, body, peer_});
        } catch (const std::exception& e) {
          log::error(h.method + " " + log::escape(h.path) + " from " + peer_ + " failed: " + e.what());
          answer = reply{text(500, "error: internal error"), {}};
        }
      }
      ++server_.counters_.requests;
      server_.answered(route_name, answer.r.status);

      if (answer.stream) {
        // The stream runs even when its head could not be written: its first write fails, and
        // it gives back its slot on the way out.
        co_await write_all(http::stream_head(answer.r));
        co_await run_stream(answer.stream);
        co_await write_all(http::last_chunk);
        co_return;
      }
      const bool keep = http::keep_alive(h);
      if (answer.r.shared_body) {
        // A shared body (GET /history) is written from where it is, never copied per reader.
        const auto shared = answer.r.shared_body;
        const bool sent = co_await write_all(http::serialize(answer.r, keep, true),
                                             head_only ? std::string_view{} : std::string_view(*shared));
        if (!sent || !keep) co_return;
        continue;
      }
      if (!co_await write_all(http::serialize(answer.r, keep, head_only)) || !keep) co_return;
    }
  }

  awaitable<void> run_stream(const stream_function& stream);

  http_server& server_;
  tcp::socket socket_;
  asio::strand<asio::io_context::executor_type> strand_;
  asio::steady_timer watchdog_;
  clock_type::time_point deadline_ = clock_type::time_point::max();
  const char* phase_ = "";
  std::string peer_;
  std::string in_;  // bytes read and not used yet
};

namespace {

class stream_impl : public event_stream, public std::enable_shared_from_this<stream_impl> {
public:
  explicit stream_impl(std::shared_ptr<connection> c) : c_(std::move(c)), timer_(c_->strand()) {}

  awaitable<bool> write(std::string data) override {
    if (gone_) co_return false;
    co_return co_await c_->write_all(http::chunk(data));
  }

  awaitable<bool> wait(std::chrono::steady_clock::duration most) override {
    if (!woken_ && !gone_) {
      timer_.expires_after(most);
      co_await timer_.async_wait(use_nothrow);
    }
    woken_ = false;
    co_return !gone_;
  }

  void wake() override {
    asio::post(c_->strand(), [self = shared_from_this()] {
      self->woken_ = true;
      self->timer_.cancel();
    });
  }

  /// The peer closed its end (or the server closed the connection): called on the strand.
  void peer_gone() {
    gone_ = true;
    timer_.cancel();
  }

  const std::string& peer() const override { return c_->peer(); }

private:
  std::shared_ptr<connection> c_;
  asio::steady_timer timer_;
  bool woken_ = false;
  bool gone_ = false;
};

}  // namespace

awaitable<void> connection::run_stream(const stream_function& stream) {
  auto s = std::make_shared<stream_impl>(shared_from_this());
  // A browser that closes its tab sends a FIN: noticing it at once frees the stream's slot.
  auto self = shared_from_this();
  asio::co_spawn(strand_, [self, s]() -> awaitable<void> {
    co_await self->drain_until_closed();
    s->peer_gone();
  }, asio::detached);
  co_await stream(s);
}

const http_server::handler* http_server::find(const std::string& method, const std::string& path,
                                              bool& path_known, std::string& route) const {
  for (const auto& [key, h] : routes_) {
    if (key.second != path) continue;
    path_known = true;
    route = key.second;
    if (key.first == method) return &h;
  }
  for (const auto& [prefix, h] : prefixes_) {
    if (path.size() > prefix.size() && path.compare(0, prefix.size(), prefix) == 0) {
      path_known = true;
      route = prefix;
      if (method == "GET") return &h;
    }
  }
  return nullptr;
}

void http_server::listen(const common::host_port& where) {
  // The acceptor lives on a strand of its own, so that stop() may close it from any thread.
  acceptor_ = std::make_unique<tcp::acceptor>(common::listen(accept_strand_, where));
  asio::co_spawn(accept_strand_, common::accept_loop(*acceptor_, [this](tcp::socket s) { on_accept(std::move(s)); }, "listener"),
                 asio::detached);
}

std::string http_server::local_address() const { return common::to_string(acceptor_->local_endpoint()); }

void http_server::on_accept(tcp::socket socket) {
  std::lock_guard lock(mutex_);
  if (stopping_) return;
  // Forget connections that ended, then refuse beyond the cap (the socket closes as it goes).
  connections_.remove_if([](const std::weak_ptr<connection>& c) { return c.expired(); });
  if (connections_.size() >= http::max_connections) {
    ++counters_.turned_away;
    if (!warned_full_) {
      log::warn(std::to_string(http::max_connections) + " connections open: closing new ones at once until some end");
      warned_full_ = true;
    }
    return;
  }
  warned_full_ = false;
  auto c = std::make_shared<connection>(*this, std::move(socket), asio::make_strand(io_));
  connections_.push_back(c);
  c->start();
}

void http_server::stop() {
  std::lock_guard lock(mutex_);
  stopping_ = true;
  if (acceptor_) {
    asio::post(accept_strand_, [a = acceptor_.get()] {
      std::error_code ignored;
      a->close(ignored);
    });
  }
  for (auto& weak : connections_)
    if (auto c = weak.lock()) c->close_soon();
}

}  // namespace dashboard_server
