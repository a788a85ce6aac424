// The dashboard's HTTP/1.1 request parsing on any bytes: the head (parse_head), the body framing
// (framing) and a chunked body (chunked_decoder), fed whole and in pieces.
// Properties: need_more never consumes and only while the head is under max_head; an ok head
// consumes a prefix ending in a blank line; a chunked body decodes the same however it is cut,
// never holds more than its limit, and a body it accepts re-encodes (one chunk) to the same body.
#include <cstddef>
#include <cstdint>
#include <string>

#include "check.hpp"
#include "dashboard_server/http.hpp"

using trend_fuzz::check;
namespace http = dashboard_server::http;

namespace {

struct chunked_run {
  wire::status state;
  std::string body;
  std::size_t used;
};

chunked_run decode_chunked(std::string_view in, std::size_t piece, std::size_t limit) {
  http::chunked_decoder d(limit);
  std::size_t used = 0;
  for (std::size_t at = 0; at < in.size() && d.state() == wire::status::need_more; at += piece) {
    const std::string_view part = in.substr(at, piece);
    const std::size_t n = d.feed(part);
    check(n <= part.size(), "chunked feed used more than it was given");
    used += n;
    check(d.body().size() <= limit, "chunked body over its limit");
    if (n < part.size()) break;
  }
  return {d.state(), d.body(), used};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = trend_fuzz::as_text(data, size);

  const auto head = http::parse_head(in);
  if (head.state == wire::status::need_more) {
    check(head.consumed == 0 && in.size() <= http::max_head, "need_more past max_head");
  } else if (head) {
    check(head.consumed >= 4 && head.consumed <= in.size(), "head consumed outside the input");
    check(in.substr(head.consumed - 2, 2) == "\r\n" || in.substr(head.consumed - 1, 1) == "\n",
          "head does not end with a line end");
    check(!head->method.empty(), "ok head without a method");
    const auto how = http::framing(*head, 1024);
    if (how && how->how == http::body_framing::kind::length) check(how->length <= 1024, "length over the limit");
    (void)http::keep_alive(*head);
    (void)http::expects_continue(*head);
  } else {
    check(!head.error.message.empty(), "bad head without a reason");
  }
  // A head fed a byte at a time agrees with it fed whole.
  for (std::size_t k = 0; k <= std::min<std::size_t>(in.size(), 64); ++k) {
    const auto part = http::parse_head(in.substr(0, k));
    if (part.state == wire::status::ok) check(head && part.consumed == head.consumed, "a prefix parsed otherwise");
    if (part.state == wire::status::bad) check(head.state == wire::status::bad, "a prefix failed but the whole did not");
  }

  // The input as a chunked body, whole and in pieces of 1 and 7 bytes.
  const std::size_t limit = 4096;
  const auto whole = decode_chunked(in, in.size() + 1, limit);
  for (const std::size_t piece : {std::size_t{1}, std::size_t{7}}) {
    const auto cut = decode_chunked(in, piece, limit);
    check(cut.state == whole.state, "a chunked body decodes otherwise in pieces");
    if (whole.state == wire::status::ok) check(cut.body == whole.body && cut.used == whole.used, "pieces differ");
  }
  if (whole.state == wire::status::ok) {
    std::string again;
    if (!whole.body.empty()) again = http::chunk(whole.body);
    again += http::last_chunk;
    const auto back = decode_chunked(again, again.size() + 1, limit);
    check(back.state == wire::status::ok && back.body == whole.body, "a decoded body does not re-encode");
  }
  return 0;
}
