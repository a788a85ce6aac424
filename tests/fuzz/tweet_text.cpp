// twitter_client::extract_tweet_text on any line, both modes: never throws, agrees with the same
// rules read off a parsed JSON document (nlohmann's DOM), gives valid UTF-8, and a text put into
// a tweet message comes out again.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "check.hpp"
#include "twitter_client/tweet_text.hpp"
#include "wire/utf8.hpp"

using trend_fuzz::check;
using twitter_client::line_kind;
using twitter_client::text_mode;
using json = nlohmann::json;

namespace {

// The string at `path` below `j`, if every step is an object and the end a string.
std::optional<std::string> at(const json& j, std::initializer_list<const char*> path) {
  const json* p = &j;
  for (const char* key : path) {
    if (!p->is_object()) return std::nullopt;
    const auto it = p->find(key);
    if (it == p->end()) return std::nullopt;
    p = &*it;
  }
  if (!p->is_string()) return std::nullopt;
  return p->get<std::string>();
}

// What extract_tweet_text documents, computed from the whole document.
twitter_client::extracted expected(std::string_view line, text_mode mode) {
  const json j = json::parse(line.begin(), line.end(), nullptr, false);
  if (j.is_discarded()) return {line_kind::bad_json, {}};
  if (!j.is_object()) return {line_kind::other, {}};
  const auto paths = mode == text_mode::original
                         ? std::initializer_list<std::initializer_list<const char*>>{{"text"}}
                         : std::initializer_list<std::initializer_list<const char*>>{
                               {"extended_tweet", "full_text"}, {"full_text"}, {"text"},
                               {"data", "note_tweet", "text"}, {"data", "text"}};
  for (const auto& path : paths)
    if (auto s = at(j, path)) return {line_kind::tweet, std::move(*s)};
  return {line_kind::other, {}};
}

twitter_client::extracted extract(std::string_view line, text_mode mode) {
  try {
    return twitter_client::extract_tweet_text(line, mode);
  } catch (const std::exception& e) {
    check(false, std::string("extract_tweet_text threw: ") + e.what());
  }
  return {};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view line = trend_fuzz::as_text(data, size);
  for (const auto mode : {text_mode::full, text_mode::original}) {
    const auto got = extract(line, mode);
    if (got.kind == line_kind::tweet) check(wire::utf8::valid(got.text), "a tweet text that is not valid UTF-8");
    else check(got.text.empty(), "text for a line that is no tweet");
    const auto want = expected(line, mode);
    check(got.kind == want.kind, "the kind of line differs from the document's");
    check(got.text == want.text, "the text differs from the document's");
  }

  // Any valid UTF-8 as a tweet's text, in a v1.1 and a v2 message, comes out unchanged.
  if (!wire::utf8::valid(line)) return 0;
  const std::string text(line);
  const std::string v1 = json{{"id", 1}, {"text", "cut"}, {"extended_tweet", {{"full_text", text}}}}.dump();
  const std::string v2 = json{{"data", {{"id", "1"}, {"text", text}}}}.dump();
  const auto full = extract(v1, text_mode::full);
  check(full.kind == line_kind::tweet && full.text == text, "extended_tweet.full_text did not come out");
  const auto original = extract(v1, text_mode::original);
  check(original.kind == line_kind::tweet && original.text == "cut", "original mode did not read `text`");
  const auto data_text = extract(v2, text_mode::full);
  check(data_text.kind == line_kind::tweet && data_text.text == text, "data.text did not come out");
  return 0;
}
