// Bluesky through Jetstream: a WebSocket (Boost.Beast, RFC 6455, TLS through OpenSSL) in an
// io_context of its own in the source's thread. Beast needs Boost.Asio, not the standalone asio
// of the engine link; the two never share an object, so they live side by side.
#include <openssl/ssl.h>

#include <utility>  // before Boost 1.74's awaitable.hpp, which uses std::exchange without it

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <chrono>
#include <optional>
#include <type_traits>

#include "common/log.hpp"
#include "live_streams.hpp"
#include "twitter_client/jetstream.hpp"
#include "twitter_client/reconnect.hpp"
#include "twitter_client/url.hpp"

namespace twitter_client {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using clock = std::chrono::steady_clock;
using boost::system::error_code;

/// A Jetstream message is a few kB (a post has at most 3000 characters); larger ones are refused
/// by Beast from the frame header on, their payload never held (whatever length it claims).
constexpr std::size_t max_message_bytes = 1 << 20;
/// Connecting, TLS and the WebSocket handshake together; the stall timeout when shorter.
constexpr std::chrono::seconds connect_timeout{10};

// How one connection ended.
struct outcome {
  failure_class cls = failure_class::network;
  std::string why;
  std::uint64_t posts = 0;
  bool stopped = false;  // stop requested or --limit reached: no reconnect
  bool ended = false;    // the server closed the WebSocket
};

// One connection's state, shared by its coroutines.
struct connection {
  frame_sink& sink;
  client_stats& stats;
  const std::atomic<bool>& stop;
  jetstream::session& session;
  reconnect_policy& policy;
  clock::time_point deadline;      // the watchdog closes the socket past this
  clock::duration stall;           // the deadline moves this far after each message
  bool timed_out = false;          // the watchdog fired
  bool upgraded = false;           // the WebSocket handshake completed
  bool connected = false;          // the first message came
  bool finished = false;           // the reading coroutine ended
  outcome result;
};

std::string describe(const error_code& ec) { return ec.message() + " (" + std::string(ec.category().name()) + ")"; }

// Handles one message: forward, count, or skip it.
void handle(connection& c, std::string_view bytes) {
  auto m = jetstream::parse_message(bytes);
  if (!m) {
    c.stats.skipped.fetch_add(1, std::memory_order_relaxed);
    common::log::debug("bluesky: skipped a message: " + common::log::escape(m.error.message));
    return;
  }
  switch (c.session.handle(*m)) {
    case jetstream::verdict::forward:
      ++c.result.posts;
      c.sink.add(m->text);
      break;
    case jetstream::verdict::duplicate: c.stats.duplicates.fetch_add(1, std::memory_order_relaxed); break;
    case jetstream::verdict::other_lang: c.stats.other_lang.fetch_add(1, std::memory_order_relaxed); break;
    case jetstream::verdict::ignored: c.stats.ignored.fetch_add(1, std::memory_order_relaxed); break;
  }
}

// Closes the socket when the deadline passes or a stop is requested; checks every 100 ms.
template <class Stream>
asio::awaitable<void> watchdog(connection& c, Stream& ws, asio::steady_timer& timer) {
  while (!c.finished) {
    timer.expires_after(std::chrono::milliseconds(100));
    error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (c.finished) break;
    const bool stop = c.stop.load(std::memory_order_relaxed) || c.sink.done();
    if (stop || clock::now() > c.deadline) {
      c.timed_out = !stop;
      c.result.stopped = stop;
      error_code ignored;
      beast::get_lowest_layer(ws).socket().close(ignored);  // fails whatever is pending
      break;
    }
  }
}

template <class Stream>
asio::awaitable<void> read_stream(connection& c, Stream& ws, const url_parts& url, std::string target) {
  auto fail = [&](std::string why) { c.result.why = std::move(why); };
  auto executor = co_await asio::this_coro::executor;
  error_code ec;
  tcp::resolver resolver(executor);
  const auto endpoints =
      co_await resolver.async_resolve(url.host, std::to_string(url.port), asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return fail("cannot resolve " + url.host + ": " + describe(ec));
  co_await beast::get_lowest_layer(ws).async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return fail("cannot connect to " + url.host + ":" + std::to_string(url.port) + ": " + describe(ec));
  if constexpr (!std::is_same_v<typename Stream::next_layer_type, beast::tcp_stream>) {
    // Server name indication, and the certificate must name the host (OpenSSL checks it).
    SSL* ssl = ws.next_layer().native_handle();
    SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(url.host.c_str()));
    SSL_set1_host(ssl, url.host.c_str());
    co_await ws.next_layer().async_handshake(asio::ssl::stream_base::client, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return fail("TLS handshake with " + url.host + " failed: " + describe(ec));
  }
  ws.set_option(websocket::stream_base::decorator(
      [](websocket::request_type& req) { req.set(beast::http::field::user_agent, user_agent); }));
  ws.read_message_max(max_message_bytes);
  // Beast fails a connection (an oversized message, a protocol error) with a closing handshake,
  // discarding what still comes; this bounds that wait. The watchdog bounds the rest.
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = std::chrono::seconds(5);
  timeouts.idle_timeout = websocket::stream_base::none();
  timeouts.keep_alive_pings = false;
  ws.set_option(timeouts);
  websocket::response_type response;
  const std::string host = url.host + (url.port == 443 || url.port == 80 ? "" : ":" + std::to_string(url.port));
  co_await ws.async_handshake(response, host, target, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    const unsigned status = response.result_int();
    if (status != 0 && status != 101) {
      // No credentials are involved: a 401 or 403 is a server's trouble like any other status.
      const failure_class cls = classify_http(status);
      c.result.cls = cls == failure_class::fatal ? failure_class::http : cls;
      co_return fail("HTTP " + std::to_string(status) + " to the WebSocket upgrade");
    }
    co_return fail("WebSocket handshake failed: " + describe(ec));
  }
  c.upgraded = true;
  common::log::info("bluesky: connected to " + url.host + " (" + target + ")");
  beast::flat_buffer buffer;
  for (;;) {
    c.deadline = clock::now() + c.stall;
    buffer.clear();
    co_await ws.async_read(buffer, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    c.deadline = clock::now() + c.stall;
    if (!c.connected) {
      c.connected = true;
      c.policy.connected(clock::now());
    }
    if (!ws.got_text()) {
      c.stats.skipped.fetch_add(1, std::memory_order_relaxed);  // compressed frames were not asked for
      continue;
    }
    const auto data = buffer.cdata();
    handle(c, std::string_view(static_cast<const char*>(data.data()), data.size()));
    c.sink.flush();
    if (c.sink.done() || c.stop.load(std::memory_order_relaxed)) {
      c.result.stopped = true;
      co_return;
    }
  }
  if (c.result.stopped) co_return;
  if (c.timed_out) co_return fail("no message for " + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(c.stall).count()) + " ms (stalled)");
  if (ec == websocket::error::closed) {
    c.result.ended = true;
    const auto& reason = ws.reason();
    co_return fail("the server closed the WebSocket (code " + std::to_string(reason.code) + " " +
                   common::log::escape(std::string_view(reason.reason.data(), reason.reason.size()), 100) + ")");
  }
  if (ec == websocket::error::message_too_big) co_return fail("a message larger than 1 MiB (refused)");
  fail("reading failed: " + describe(ec));
}

template <class Stream>
outcome run_connection(asio::io_context& ioc, Stream& ws, connection& c, const url_parts& url, const std::string& target) {
  c.deadline = clock::now() + std::min<clock::duration>(connect_timeout, c.stall);
  asio::steady_timer timer(ioc);
  asio::co_spawn(ioc, watchdog(c, ws, timer), asio::detached);
  asio::co_spawn(ioc, read_stream(c, ws, url, target), [&](std::exception_ptr e) {
    c.finished = true;
    timer.cancel();  // the watchdog ends now, not at its next tick
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        c.result.why = std::string("error: ") + ex.what();
      }
    }
    error_code ignored;
    beast::get_lowest_layer(ws).socket().close(ignored);
  });
  ioc.run();
  ioc.restart();
  if (c.timed_out && !c.upgraded && !c.result.stopped)
    c.result.why = "no answer to connect, TLS and WebSocket handshakes within " +
                   std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                      std::min<clock::duration>(connect_timeout, c.stall)).count()) + " ms";
  return c.result;
}

}  // namespace

bool run_bluesky(frame_sink& sink, client_stats& stats, const std::atomic<bool>& stop, const bluesky_options& o) {
  const auto url = split_url(o.url);
  if (!url || (url->scheme != "ws" && url->scheme != "wss")) {
    common::log::error("--jetstream-url " + o.url + " is not a ws:// or wss:// URL");
    return false;
  }
  asio::ssl::context tls(asio::ssl::context::tls_client);
  tls.set_verify_mode(asio::ssl::verify_peer);
  try {
    if (o.ca_file.empty()) tls.set_default_verify_paths();
    else tls.load_verify_file(o.ca_file);
  } catch (const boost::system::system_error& e) {
    common::log::error("--ca-file " + o.ca_file + ": " + e.what());
    return false;
  }
  jetstream::session session(o.langs);
  reconnect_policy policy(o.backoff_scale);
  bool first = true;
  stream_end last_end = stream_end::network;  // how the last connection ended
  const auto stall = std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(o.stall_seconds));
  while (!stop.load() && !sink.done()) {
    std::string target = add_query(url->target, "wantedCollections", jetstream::post_collection);
    if (const auto cursor = session.resume_cursor()) target = add_query(target, "cursor", std::to_string(*cursor));
    if (!first) stats.count_stream_reconnect(last_end);
    first = false;
    asio::io_context ioc;
    connection c{sink, stats, stop, session, policy, {}, stall, false, false, false, false, {}};
    outcome result;
    if (url->tls()) {
      websocket::stream<beast::ssl_stream<beast::tcp_stream>> ws(ioc, tls);
      result = run_connection(ioc, ws, c, *url, target);
    } else {
      websocket::stream<beast::tcp_stream> ws(ioc);
      result = run_connection(ioc, ws, c, *url, target);
    }
    sink.flush();
    if (result.stopped || stop.load() || sink.done()) break;
    policy.ended(clock::now());
    last_end = result.cls == failure_class::rate_limit ? stream_end::rate_limit
               : result.cls == failure_class::http     ? stream_end::http
               : c.timed_out && c.upgraded             ? stream_end::stalled
               : result.ended                          ? stream_end::ended
                                                       : stream_end::network;
    const auto nominal = policy.next_nominal(result.cls);
    const auto wait = policy.scaled(nominal);
    common::log::warn("bluesky: " + result.why + " after " + std::to_string(result.posts) + " posts; reconnecting in " +
                      std::to_string(wait.count()) + " ms (" + name(result.cls) + " back-off, nominal " +
                      std::to_string(nominal.count()) + " ms)" +
                      (session.resume_cursor() ? ", from cursor " + std::to_string(*session.resume_cursor()) : ""));
    sleep_unless_stopped(wait, stop);
  }
  return true;
}

}  // namespace twitter_client
