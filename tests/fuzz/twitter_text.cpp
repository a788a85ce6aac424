// engine::extract_hashtags and engine::normalize_nfkc_lower on any valid UTF-8 text.
// Properties: every hashtag is a non-empty view inside the text, in order, preceded by '#' or
// U+FF03, and again a whole hashtag when extracted alone ("#" + it); normalising is idempotent
// and gives valid UTF-8.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "check.hpp"
#include "engine/normalize.hpp"
#include "engine/twitter_text.hpp"
#include "wire/utf8.hpp"

using trend_fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = trend_fuzz::as_text(data, size);
  if (!wire::utf8::valid(text)) return 0;  // the engine skips such tweets before extraction
  std::vector<std::string_view> tags;
  engine::extract_hashtags(text, tags);
  const char* last_end = text.data();
  std::string key, again;
  for (const std::string_view tag : tags) {
    check(!tag.empty(), "an empty hashtag");
    check(tag.data() >= last_end && tag.data() + tag.size() <= text.data() + text.size(), "a hashtag out of place");
    const std::size_t at = static_cast<std::size_t>(tag.data() - text.data());
    const bool ascii_mark = at >= 1 && text[at - 1] == '#';
    const bool wide_mark = at >= 3 && text.substr(at - 3, 3) == "\xef\xbc\x83";
    check(ascii_mark || wide_mark, "a hashtag without its mark");
    last_end = tag.data() + tag.size();
    std::vector<std::string_view> alone;
    const std::string single = "#" + std::string(tag);
    engine::extract_hashtags(single, alone);
    check(alone.size() == 1 && alone[0] == tag, "a hashtag is not one when extracted alone");
    engine::normalize_nfkc_lower(single, key);
    check(wire::utf8::valid(key), "normalising gave invalid UTF-8");
    engine::normalize_nfkc_lower(key, again);
    check(again == key, "normalising is not idempotent");
  }
  return 0;
}
