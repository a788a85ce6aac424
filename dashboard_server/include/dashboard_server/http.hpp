#pragma once
// HTTP/1.1 as the dashboard speaks it, as pure functions: the request head, how the body is
// delimited (Content-Length or chunked, both held to the body limit while they are read), and
// responses. No I/O: app/http_server.cpp reads and writes the sockets.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "dashboard_server/routes.hpp"
#include "wire/result.hpp"

namespace dashboard_server::http {

// The server's limits, stated once. A connection never holds a thread: these bound how long
// and how much a peer may hold of anything else.

/// Request line plus headers, at most (as cpp-httplib allowed). Longer heads get 431.
inline constexpr std::size_t max_head = 8 * 1024;
/// Header lines in one request, at most.
inline constexpr std::size_t max_header_lines = 100;
/// A request head must be complete this long after its first byte (a trickling peer is cut off).
inline constexpr std::chrono::seconds head_timeout{10};
/// A kept-alive connection with no new request for this long is closed.
inline constexpr std::chrono::seconds idle_timeout{5};
/// A request body (at most max_body) must be complete this long after its head.
inline constexpr std::chrono::seconds body_timeout{10};
/// A response, or one event of a stream, must be taken by the peer within this long.
inline constexpr std::chrono::seconds write_timeout{10};
/// Connections open at once, at most; more are closed as soon as they are accepted.
inline constexpr std::size_t max_connections = 512;

using header_list = dashboard_server::header_list;

/// A parsed request line and header block.
struct request_head {
  std::string method;
  std::string target;  ///< as sent
  std::string path;    ///< the target before '?', percent-decoded ('+' stays)
  std::string query;   ///< after '?', as sent
  int minor_version = 1;  ///< HTTP/1.x
  header_list headers;    ///< names as sent, values trimmed

  /// The first header of that name (any case), or nullptr.
  const std::string* header(std::string_view name) const;
};

/// Reads a request head at the start of `in`: ok (consumed = head bytes, blank line included),
/// need_more while no blank line has come and at most max_head bytes have, bad otherwise. A bad
/// head's error.offset is max_head when it is too long (answer 431), else where it went wrong (400).
wire::parsed<request_head> parse_head(std::string_view in);

/// Whether the connection stays open after this request (HTTP/1.1 unless "Connection: close";
/// HTTP/1.0 only with "Connection: keep-alive").
bool keep_alive(const request_head& head);

/// Whether the client waits for "100 Continue" before it sends the body.
bool expects_continue(const request_head& head);

/// How a request body is delimited.
struct body_framing {
  enum class kind { none, length, chunked } how = kind::none;
  std::uint64_t length = 0;  ///< for kind::length
};

/// The body framing of `head`, held to `limit` bytes. bad, with the reason to answer 400 with:
/// a Content-Length that is not plain decimal digits (-1, +5, 0x10, a 20-digit number), two
/// different ones, one over `limit` ("... over the limit of N bytes"), both Content-Length and
/// Transfer-Encoding, or a Transfer-Encoding other than chunked.
wire::parsed<body_framing> framing(const request_head& head, std::size_t limit);

/// A chunked body decoded as it arrives, never holding more than `limit` decoded bytes nor a
/// chunk-size or trailer line longer than 4 KiB.
class chunked_decoder {
public:
  explicit chunked_decoder(std::size_t limit) : limit_(limit) {}

  /// Decodes from `in`; returns the bytes used (all of them until the body ends).
  std::size_t feed(std::string_view in);
  /// need_more until the last chunk and the trailers are read; then ok; bad with error() on a
  /// malformed body or one over the limit.
  wire::status state() const noexcept { return state_; }
  const wire::error& error() const noexcept { return error_; }
  /// The decoded body so far.
  std::string& body() noexcept { return body_; }

private:
  enum class part { size_line, data, data_end, trailer };
  void fail(std::string why);

  std::size_t limit_;
  part part_ = part::size_line;
  std::string line_;
  std::uint64_t left_ = 0;  // bytes of the current chunk still to come
  std::size_t offset_ = 0;  // bytes of the encoded body seen
  std::string body_;
  wire::status state_ = wire::status::need_more;
  wire::error error_;
};

/// The reason phrase of a status code ("OK", "Not Found").
std::string_view reason(int status);

/// A whole response: status line, the response's headers, Content-Type, Content-Length, the
/// headers every response carries (Referrer-Policy: no-referrer, X-Content-Type-Options:
/// nosniff), "Connection: close" unless keep_alive, then the body (r.payload(); none when
/// head_only: HEAD, and the head alone for a shared body the server writes from where it is).
std::string serialize(const response& r, bool keep_alive, bool head_only = false);

/// The head of a streamed response (chunked, Connection: close), then its chunks and its end.
std::string stream_head(const response& r);
std::string chunk(std::string_view data);
inline constexpr std::string_view last_chunk = "0\r\n\r\n";

}  // namespace dashboard_server::http
