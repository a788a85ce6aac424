// Tweet texts on simdjson's On-Demand API: the client's hot path (replay, Twitter).
//
// On-Demand checks only what it is asked to read, so the walk reads every value of the line:
// a line is a tweet exactly when it is valid JSON (RFC 8259, as nlohmann's parser had it before)
// and the text's path holds a string, the last of repeated keys winning.
#include "twitter_client/tweet_text.hpp"

#include <optional>

#include "json_reader.hpp"

namespace twitter_client {

namespace {

namespace od = simdjson::ondemand;
using simdjson::error_code;

// The texts a tweet may carry, as views into the parser's string buffer.
struct found {
  std::optional<std::string_view> text, full_text, ext_full_text, data_text, note_text;
};

// One string value wanted at its path: a later non-string value under the same key replaces it.
error_code take_string(od::value v, std::optional<std::string_view>& slot, int depth) {
  od::json_type type;
  if (auto e = v.type().get(type)) return e;
  if (type != od::json_type::string) {
    slot.reset();
    return json::check_value(v, type, depth);
  }
  std::string_view s;
  if (auto e = v.get_string().get(s)) return e;
  slot = s;
  return simdjson::SUCCESS;
}

// `data.note_tweet`: its `text`.
error_code read_note(od::value v, found& f, int depth) {
  f.note_text.reset();
  return json::for_each_field(v, depth, [&](std::string_view key, od::value child) {
    return key == "text" ? take_string(child, f.note_text, depth + 1) : json::check_value(child, depth + 1);
  });
}

// `data` (API v2): `text` and `note_tweet`.
error_code read_data(od::value v, found& f, int depth) {
  f.data_text.reset();
  f.note_text.reset();
  return json::for_each_field(v, depth, [&](std::string_view key, od::value child) {
    if (key == "text") return take_string(child, f.data_text, depth + 1);
    if (key == "note_tweet") return read_note(child, f, depth + 1);
    return json::check_value(child, depth + 1);
  });
}

// `extended_tweet` (API v1.1): its `full_text`.
error_code read_extended(od::value v, found& f, int depth) {
  f.ext_full_text.reset();
  return json::for_each_field(v, depth, [&](std::string_view key, od::value child) {
    return key == "full_text" ? take_string(child, f.ext_full_text, depth + 1) : json::check_value(child, depth + 1);
  });
}

error_code read_root(od::object obj, found& f) {
  return json::for_each_field(obj, [&](std::string_view key, od::value child) {
    if (key == "text") return take_string(child, f.text, 1);
    if (key == "full_text") return take_string(child, f.full_text, 1);
    if (key == "extended_tweet") return read_extended(child, f, 1);
    if (key == "data") return read_data(child, f, 1);
    return json::check_value(child, 1);
  });
}

extracted tweet(std::string_view s) { return {line_kind::tweet, std::string(s)}; }

}  // namespace

extracted extract_tweet_text(std::string_view line, text_mode mode) {
  // nlohmann's lexer, the reference, takes a NUL byte for the end of the input; in a string it
  // would be an error either way (an unescaped control character, or an unclosed string).
  if (const auto nul = line.find('\0'); nul != std::string_view::npos) line = line.substr(0, nul);
  auto& reader = json::thread_reader();
  od::document doc;
  if (reader.iterate(line).get(doc)) return {line_kind::bad_json, {}};
  od::json_type type;
  if (doc.type().get(type)) return {line_kind::bad_json, {}};
  found f;
  error_code e;
  if (type == od::json_type::object) {
    od::object obj;
    e = doc.get_object().get(obj);
    if (!e) e = read_root(obj, f);
  } else {
    e = json::check_root(doc, type);
  }
  if (!e && !json::at_end(doc)) e = simdjson::TRAILING_CONTENT;
  if (e == json::too_deep) return extract_tweet_text_reference(line, mode);  // exact at any depth
  // A number simdjson refuses at the root (an exponent of 20 digits or more) is checked again on
  // its token inside a document (check_number_token), but at the root simdjson does not say
  // whether anything trails it: the reference decides those lines, none of which is a tweet.
  if (e == simdjson::NUMBER_ERROR && type == od::json_type::number) return extract_tweet_text_reference(line, mode);
  if (e) return {line_kind::bad_json, {}};
  if (type != od::json_type::object) return {line_kind::other, {}};
  if (mode == text_mode::original) return f.text ? tweet(*f.text) : extracted{line_kind::other, {}};
  for (const auto* s : {&f.ext_full_text, &f.full_text, &f.text, &f.note_text, &f.data_text})
    if (*s) return tweet(**s);
  return {line_kind::other, {}};
}

}  // namespace twitter_client
