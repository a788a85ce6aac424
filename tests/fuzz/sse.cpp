// twitter_client::sse::parser on any bytes: the same events whether the stream comes whole or in
// pieces of 1 or 7 bytes; no event's data is over the limit; the comment and oversize counts agree.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "check.hpp"
#include "twitter_client/sse.hpp"

using trend_fuzz::check;

namespace {

struct run_result {
  std::vector<std::string> events;  // type, data and id joined
  std::size_t comments, oversized;
};

run_result run(std::string_view in, std::size_t piece) {
  twitter_client::sse::parser p(4096);
  run_result r{};
  auto on_event = [&](const twitter_client::sse::event& e) {
    check(e.data.size() <= 4096, "an event's data over the limit");
    r.events.push_back(e.type + '\0' + e.data + '\0' + e.id);
  };
  for (std::size_t at = 0; at < in.size(); at += piece) p.feed(in.substr(at, piece), on_event);
  r.comments = p.comments();
  r.oversized = p.oversized();
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = trend_fuzz::as_text(data, size);
  const auto whole = run(in, in.size() + 1);
  for (const std::size_t piece : {std::size_t{1}, std::size_t{7}}) {
    const auto cut = run(in, piece);
    check(cut.events == whole.events, "events differ when the stream is cut");
    check(cut.comments == whole.comments && cut.oversized == whole.oversized, "counts differ when cut");
  }
  return 0;
}
