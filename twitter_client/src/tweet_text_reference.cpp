// The nlohmann SAX reader of tweet texts this client used before simdjson: the reference the
// simdjson reader is tested against, and its fallback for documents nested deeper than it walks.
#include "twitter_client/tweet_text.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <vector>

namespace twitter_client {

namespace {

// Where the parser stands: only the few paths that hold a tweet's text matter.
enum class place : unsigned char { root, ext, data, note, other };
// Which of the wanted strings the next value would be.
enum class slot : unsigned char { none, text, full_text, ext_full_text, data_text, note_text };

// SAX handler: remembers the wanted strings, skips everything else, builds no DOM.
class text_finder final : public nlohmann::json_sax<nlohmann::json> {
public:
  std::optional<std::string> text, full_text, ext_full_text, data_text, note_text;
  bool root_is_object = false;

  bool null() override { return value(); }
  bool boolean(bool) override { return value(); }
  bool number_integer(number_integer_t) override { return value(); }
  bool number_unsigned(number_unsigned_t) override { return value(); }
  bool number_float(number_float_t, const string_t&) override { return value(); }
  bool binary(binary_t&) override { return value(); }
  bool string(string_t& s) override {
    switch (pending_) {
      case slot::text: text = std::move(s); break;
      case slot::full_text: full_text = std::move(s); break;
      case slot::ext_full_text: ext_full_text = std::move(s); break;
      case slot::data_text: data_text = std::move(s); break;
      case slot::note_text: note_text = std::move(s); break;
      case slot::none: break;
    }
    pending_ = slot::none;
    return true;
  }
  bool start_object(std::size_t) override {
    value();  // an object under a wanted string's key: that key holds no string now
    if (stack_.empty()) {
      root_is_object = true;
      stack_.push_back(place::root);
    } else {
      stack_.push_back(next_place_);
    }
    pending_ = slot::none;
    next_place_ = place::other;
    return true;
  }
  bool end_object() override {
    stack_.pop_back();
    return true;
  }
  bool start_array(std::size_t) override {
    value();
    stack_.push_back(place::other);
    pending_ = slot::none;
    next_place_ = place::other;
    return true;
  }
  bool end_array() override {
    stack_.pop_back();
    return true;
  }
  bool key(string_t& k) override {
    pending_ = slot::none;
    next_place_ = place::other;
    switch (stack_.back()) {
      // A container key seen again replaces what its earlier value held (last key wins).
      case place::root:
        if (k == "text") pending_ = slot::text;
        else if (k == "full_text") pending_ = slot::full_text;
        else if (k == "extended_tweet") {
          next_place_ = place::ext;
          ext_full_text.reset();
        } else if (k == "data") {
          next_place_ = place::data;
          data_text.reset();
          note_text.reset();
        }
        break;
      case place::ext:
        if (k == "full_text") pending_ = slot::ext_full_text;
        break;
      case place::data:
        if (k == "text") pending_ = slot::data_text;
        else if (k == "note_tweet") {
          next_place_ = place::note;
          note_text.reset();
        }
        break;
      case place::note:
        if (k == "text") pending_ = slot::note_text;
        break;
      case place::other: break;
    }
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

private:
  bool value() {
    // A later non-string value under the same key replaces an earlier string (last key wins, as
    // in Python's json.loads); such a tweet has no usable text at that path.
    switch (pending_) {
      case slot::text: text.reset(); break;
      case slot::full_text: full_text.reset(); break;
      case slot::ext_full_text: ext_full_text.reset(); break;
      case slot::data_text: data_text.reset(); break;
      case slot::note_text: note_text.reset(); break;
      case slot::none: break;
    }
    pending_ = slot::none;
    return true;
  }

  std::vector<place> stack_;
  slot pending_ = slot::none;
  place next_place_ = place::other;
};

}  // namespace

extracted extract_tweet_text_reference(std::string_view line, text_mode mode) {
  text_finder finder;
  const bool ok = nlohmann::json::sax_parse(line.begin(), line.end(), &finder,
                                            nlohmann::json::input_format_t::json, true);
  if (!ok) return {line_kind::bad_json, {}};
  if (!finder.root_is_object) return {line_kind::other, {}};
  auto found = [](std::optional<std::string>& s) { return extracted{line_kind::tweet, std::move(*s)}; };
  if (mode == text_mode::original) {
    if (finder.text) return found(finder.text);
    return {line_kind::other, {}};
  }
  if (finder.ext_full_text) return found(finder.ext_full_text);
  if (finder.full_text) return found(finder.full_text);
  if (finder.text) return found(finder.text);
  if (finder.note_text) return found(finder.note_text);
  if (finder.data_text) return found(finder.data_text);
  return {line_kind::other, {}};
}

}  // namespace twitter_client
