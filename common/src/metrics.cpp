#include "common/metrics.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>

#include <prometheus/text_serializer.h>

#include <chrono>
#include <list>
#include <sstream>
#include <system_error>

#include "common/log.hpp"
#include "common/net.hpp"

namespace common::metrics {

namespace {
using asio::awaitable;
using asio::ip::tcp;
using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;
constexpr auto use_nothrow = asio::experimental::as_tuple(asio::use_awaitable);

/// A scrape has this long to send its head and take the answer.
constexpr auto scrape_timeout = 10s;
/// Scrapes served at once; more are closed at once (Prometheus scrapes one at a time).
constexpr std::size_t max_open = 16;

std::string response(int status, std::string_view reason, std::string_view type, const std::string& body,
                     bool head_only) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) + "\r\n";
  out += "Content-Type: " + std::string(type) + "\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  out += "Cache-Control: no-store\r\nConnection: close\r\n\r\n";
  if (!head_only) out += body;
  return out;
}

bool head_complete(std::string_view bytes) {
  return bytes.find("\r\n\r\n") != std::string_view::npos || bytes.find("\n\n") != std::string_view::npos;
}
}  // namespace

// ---- families --------------------------------------------------------------------------------

prometheus::ClientMetric& families::add(std::string_view name, std::string_view help, prometheus::MetricType type,
                                        const labels& l) {
  prometheus::MetricFamily* family = nullptr;
  for (auto& f : families_)
    if (f.name == name) family = &f;
  if (family == nullptr) {
    family = &families_.emplace_back();
    family->name = name;
    family->help = help;
    family->type = type;
  }
  auto& sample = family->metric.emplace_back();
  for (const auto& [k, v] : l) sample.label.push_back({k, v});
  return sample;
}

families& families::counter(std::string_view name, std::string_view help, double value, const labels& l) {
  add(name, help, prometheus::MetricType::Counter, l).counter.value = value;
  return *this;
}

families& families::gauge(std::string_view name, std::string_view help, double value, const labels& l) {
  add(name, help, prometheus::MetricType::Gauge, l).gauge.value = value;
  return *this;
}

families& families::info(std::string_view name, std::string_view help, const labels& l) {
  return gauge(name, help, 1, l);
}

std::vector<prometheus::MetricFamily> from_function::Collect() const {
  families f;
  fill_(f);
  return f.take();
}

std::string text(const sources& from) {
  std::vector<prometheus::MetricFamily> all;
  for (const auto& source : from) {
    auto some = source->Collect();
    all.insert(all.end(), std::make_move_iterator(some.begin()), std::make_move_iterator(some.end()));
  }
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, all);
  return out.str();
}

// ---- the HTTP answer -------------------------------------------------------------------------

std::string answer(std::string_view head, const std::function<std::string()>& body) {
  const auto line_end = head.find_first_of("\r\n");
  const std::string_view line = head.substr(0, line_end);
  const auto first_space = line.find(' ');
  const auto second_space = first_space == std::string_view::npos ? first_space : line.find(' ', first_space + 1);
  const auto text_plain = "text/plain; charset=utf-8";
  if (second_space == std::string_view::npos || first_space == 0 || second_space == first_space + 1 ||
      line.substr(second_space + 1).rfind("HTTP/1.", 0) != 0)
    return response(400, "Bad Request", text_plain, "error: not an HTTP/1.x request line\n", false);
  const std::string_view method = line.substr(0, first_space);
  std::string_view target = line.substr(first_space + 1, second_space - first_space - 1);
  target = target.substr(0, target.find('?'));
  if (target != "/metrics") return response(404, "Not Found", text_plain, "error: not found; try /metrics\n", false);
  if (method != "GET" && method != "HEAD")
    return response(405, "Method Not Allowed", text_plain, "error: method not allowed\n", false);
  return response(200, "OK", content_type, body(), method == "HEAD");
}

// ---- the endpoint ----------------------------------------------------------------------------

struct endpoint::state {
  explicit state(const asio::any_io_executor& e) : executor(e) {}
  asio::any_io_executor executor;
  std::optional<tcp::acceptor> acceptor;
  std::function<std::string()> body;
  std::list<tcp::socket*> open;  // touched on the executor only
  bool stopped = false;
};

namespace {

awaitable<bool> read_head(tcp::socket& socket, std::string& head) {
  char chunk[1024];
  while (!head_complete(head)) {
    if (head.size() >= max_head) co_return false;
    auto [err, n] = co_await socket.async_read_some(asio::buffer(chunk), use_nothrow);
    if (err) co_return false;
    head.append(chunk, n);
  }
  co_return true;
}

awaitable<void> drain(tcp::socket& socket) {
  char chunk[4096];
  for (std::size_t dropped = 0; dropped < 64 * 1024;) {
    auto [err, n] = co_await socket.async_read_some(asio::buffer(chunk), use_nothrow);
    if (err) co_return;
    dropped += n;
  }
}

awaitable<void> serve(std::shared_ptr<endpoint::state> s, tcp::socket socket) {
  const auto self = s->open.insert(s->open.end(), &socket);
  asio::steady_timer deadline(socket.get_executor(), scrape_timeout);
  std::string head;
  const auto got = co_await (read_head(socket, head) || deadline.async_wait(use_nothrow));
  std::string reply;
  if (got.index() == 0 && std::get<0>(got)) {
    reply = answer(head, s->body);
  } else if (got.index() == 0 && head.size() >= max_head) {
    reply = response(431, "Request Header Fields Too Large", "text/plain; charset=utf-8",
                     "error: request head over 8 KiB\n", false);
  }
  if (!reply.empty() && socket.is_open()) {
    co_await (asio::async_write(socket, asio::buffer(reply), use_nothrow) || deadline.async_wait(use_nothrow));
    std::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_send, ignored);
    // Closing with unread bytes would reset the connection and could destroy the answer before
    // the peer reads it (a refused head's rest): read and drop until the peer closes, bounded.
    co_await (drain(socket) || deadline.async_wait(use_nothrow));
  }
  s->open.erase(self);
  std::error_code ignored;
  socket.close(ignored);
}

}  // namespace

endpoint::endpoint(const asio::any_io_executor& executor, const host_port& where, std::function<std::string()> body)
    : state_(std::make_shared<state>(executor)) {
  state_->body = std::move(body);
  try {
    state_->acceptor.emplace(common::listen(executor, where));
  } catch (const std::system_error& e) {
    log::warn(std::string("metrics: ") + e.what() + "; going on without metrics");
    return;
  }
  log::info("metrics: serving http://" + local_address() + "/metrics");
  auto s = state_;
  asio::co_spawn(executor,
                 common::accept_loop(*s->acceptor, [s](tcp::socket socket) {
                   if (s->stopped || s->open.size() >= max_open) return;  // closed as it goes
                   asio::co_spawn(s->executor, serve(s, std::move(socket)), asio::detached);
                 }, "metrics listener"),
                 asio::detached);
}

endpoint::~endpoint() { stop(); }

bool endpoint::listening() const noexcept { return state_->acceptor.has_value(); }

std::string endpoint::local_address() const {
  std::error_code ec;
  if (!state_->acceptor) return {};
  const auto local = state_->acceptor->local_endpoint(ec);
  return ec ? std::string() : common::to_string(local);
}

void endpoint::stop() {
  asio::post(state_->executor, [s = state_] {
    if (s->stopped) return;
    s->stopped = true;
    std::error_code ignored;
    if (s->acceptor) s->acceptor->close(ignored);
    for (auto* socket : s->open) socket->close(ignored);
  });
}

endpoint_thread::endpoint_thread(const host_port& where, sources from)
    : from_(std::move(from)), endpoint_(io_.get_executor(), where, [this] { return text(from_); }) {
  if (endpoint_.listening()) thread_ = std::thread([this] { io_.run(); });
}

endpoint_thread::~endpoint_thread() {
  endpoint_.stop();
  if (thread_.joinable()) {
    io_.stop();
    thread_.join();
  }
}

}  // namespace common::metrics
