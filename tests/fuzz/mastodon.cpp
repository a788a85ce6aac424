// twitter_client::mastodon::parse_status and html_to_text on any bytes: never throw, never crash
// on deep nesting or broken markup, and the text stays within a few times the HTML's size.
#include <cstddef>
#include <cstdint>
#include <string>

#include "check.hpp"
#include "twitter_client/mastodon.hpp"

using trend_fuzz::check;
namespace md = twitter_client::mastodon;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = trend_fuzz::as_text(data, size);
  if (const auto s = md::parse_status(in)) (void)md::html_to_text(s->content);
  const std::string text = md::html_to_text(in);
  check(text.size() <= in.size() * 4 + 16, "the text is far longer than the HTML");
  return 0;
}
