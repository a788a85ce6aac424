#pragma once
// Which text of a Twitter stream message the client forwards. Pure: bytes in, text out.
#include <string>
#include <string_view>

namespace twitter_client {

/// `full`: the whole text (v1.1 extended_tweet.full_text, full_text, text; v2 data.note_tweet.text,
/// data.text). `original`: only the top-level `text`, as twitter_client.py read it.
enum class text_mode { full, original };

enum class line_kind {
  tweet,      ///< `text` holds the tweet's text
  other,      ///< valid JSON that is not a tweet (delete, limit, errors, ...): ignored
  bad_json,   ///< not JSON (a torn line): skipped and counted
};

struct extracted {
  line_kind kind;
  std::string text;
};

/// Extracts the text of one stream line (a JSON object) with simdjson On-Demand, building no DOM.
/// A line is a tweet when it is valid JSON and the text's path holds a string (last key wins).
extracted extract_tweet_text(std::string_view line, text_mode mode = text_mode::full);

/// The same result through nlohmann's SAX parser (the reader before simdjson): the reference the
/// fast one is tested against, and what it falls back to for lines nested deeper than 1000.
extracted extract_tweet_text_reference(std::string_view line, text_mode mode = text_mode::full);

}  // namespace twitter_client
