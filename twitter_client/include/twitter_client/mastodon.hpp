#pragma once
// Mastodon's streaming API (Server-Sent Events): which stream a --stream names, what an `update`
// event's status is, and the plain text of its HTML content. Pure.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "wire/result.hpp"

namespace twitter_client::mastodon {

/// The path and query of a --stream value: "public" -> /api/v1/streaming/public,
/// "public:local" -> .../public/local, "hashtag:TAG" -> .../hashtag?tag=TAG (TAG without '#',
/// percent-encoded); nullopt for anything else or an empty tag.
std::optional<std::string> stream_target(std::string_view stream);

/// The fields of a Status entity the client uses.
struct status {
  std::string content;   ///< HTML
  std::string language;  ///< ISO 639 code; empty when null or absent
  bool reblog = false;   ///< a boost of another status (`reblog` is an object)
};

/// Parses the data of an `update` event (a Status as JSON). Bad when it is not valid JSON, not an
/// object, or `content` is not a string.
wire::parsed<status> parse_status(std::string_view json);

/// Longest HTML read; the rest of a longer content is ignored.
inline constexpr std::size_t max_html_bytes = 1 << 20;

/// The plain text of a status' HTML content, through libxml2's HTML parser (no tree is built):
/// the text as a reader sees it, so a hashtag link is "#tag" as written, a mention "@user", a
/// link its whole URL; <br> and the end of a paragraph become "\n" (none at the end); entities
/// decoded; the text of script and style elements left out. Never fails; depth only counted.
std::string html_to_text(std::string_view html);

}  // namespace twitter_client::mastodon
