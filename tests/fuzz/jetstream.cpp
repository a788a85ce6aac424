// twitter_client::jetstream::parse_message and session::handle on any bytes: a message parses or
// is refused with a reason, never throws; handling it twice forwards it at most once; the session
// remembers at most max_remembered posts.
#include <cstddef>
#include <cstdint>
#include <string>

#include "check.hpp"
#include "twitter_client/jetstream.hpp"

using trend_fuzz::check;
namespace js = twitter_client::jetstream;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = trend_fuzz::as_text(data, size);
  const auto m = js::parse_message(in);
  if (!m) {
    check(m.state == wire::status::bad && !m.error.message.empty(), "a refused message without a reason");
    return 0;
  }
  js::session s;
  const auto first = s.handle(*m);
  const auto second = s.handle(*m);
  if (m->type == js::event_type::post) {
    check(first == js::verdict::forward || m->rkey.empty() || m->did.empty(), "a new post not forwarded");
    if (first == js::verdict::forward) check(second == js::verdict::duplicate, "a post forwarded twice");
  } else {
    check(first == js::verdict::ignored && second == js::verdict::ignored, "a non-post not ignored");
  }
  check(s.remembered() <= js::session::max_remembered, "the session remembers too much");
  (void)s.resume_cursor();
  return 0;
}
