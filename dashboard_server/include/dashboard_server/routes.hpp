#pragma once
// The dashboard's routes as pure functions: request fields in, status/content type/body out,
// over a `board` (the current top-10). app/ does the HTTP, the locking and the streaming.
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wire/url.hpp"

namespace dashboard_server {

// The body limit follows from the largest update a legal tweet stream can cause. A tweet holds
// at most 280 characters, so a hashtag does too; a character is at most 4 bytes of UTF-8. The
// longest way such a character reaches the dashboard is a Python 2 engine's record through the
// original receiver: each of its 4 bytes is written "\xNN" and each '\' percent-encoded, so
// "%5Cxf0" is 6 bytes per byte, 24 per character (our engine and receiver write Python 3
// literals: a 4-byte character is its 4 raw bytes, or "\U000XXXXX" when not printable, 12 bytes
// either way once percent-encoded).

/// Characters in the longest hashtag of a legal tweet.
inline constexpr std::size_t max_hashtag_chars = 280;
/// Form-body bytes of one such character at worst ("\xNN" four times, '\' as %5C).
inline constexpr std::size_t max_form_bytes_per_char = 4 * 6;
/// Hashtags in a record (the engine's default --top).
inline constexpr std::size_t top_n = 10;
/// Digits of the largest count (int64).
inline constexpr std::size_t max_count_digits = 19;
/// The largest top-10 form body: "label=%5B" + ten "%27TAG%27" + nine "%2C+" + "%5D" then
/// "&data=%5B" + ten counts + nine "%2C+" + "%5D": 67,546 bytes.
inline constexpr std::size_t worst_form_body =
    (6 + 3 + top_n * (3 + max_hashtag_chars * max_form_bytes_per_char + 3) + (top_n - 1) * 4 + 3) +
    (6 + 3 + top_n * max_count_digits + (top_n - 1) * 4 + 3);

/// Largest request body accepted: the worst top-10 form with room to spare (about twice it).
/// THE body limit: the server refuses longer bodies (Content-Length or chunked) with a 400 naming it.
inline constexpr std::size_t max_body = 128 * 1024;
static_assert(max_body >= worst_form_body, "the largest legal top-10 must fit");

/// JSON bodies nest at most this deep (an update is 2 deep); deeper is refused before parsing.
inline constexpr std::size_t max_json_depth = 32;

/// The current top list and when it last changed.
struct board {
  std::vector<std::string> labels;
  std::vector<std::int64_t> counts;
  std::uint64_t version = 0;     ///< bumped by every accepted update; 0 = never updated
  std::int64_t updated_ms = 0;   ///< Unix time of the last update in milliseconds
  std::int64_t started_ms = 0;   ///< when this server started: a page seeing another value knows it restarted
  bool operator==(const board&) const = default;
};

using header_list = std::vector<std::pair<std::string, std::string>>;

/// What a route answers.
struct response {
  int status = 200;
  std::string content_type;
  std::string body;
  header_list headers;
  /// When set, the body instead of `body`: one copy that many responses share (GET /history).
  std::shared_ptr<const std::string> shared_body = nullptr;

  /// The body to send: *shared_body when set, else body.
  const std::string& payload() const { return shared_body ? *shared_body : body; }
};

/// A plain-text response (text/plain; charset=utf-8).
response text(int status, std::string body);

/// The media type of a Content-Type header value, lower-cased, parameters dropped.
std::string media_type(std::string_view content_type);

/// The fields of a multipart/form-data body (`content_type` carries the boundary), first part
/// of a name first; empty when the body is not well-formed multipart (Flask's form is empty then).
wire::url::form parse_multipart(std::string_view content_type, std::string_view body);

/// GET /refreshDashboard: {"r_hashtags": [...], "r_counts": [...]}, plus headers for the polling
/// page: X-Board-Version, X-Board-Updated (ISO 8601), X-Board-Started (the server's start, Unix
/// ms) and, once updated, X-Board-Age-Ms (how long before `now_ms` the last update came).
response refresh_dashboard(const board& b, std::int64_t now_ms);

/// POST /updateDashboard with a form (urlencoded or multipart, decoded): label and data are
/// Python list literals. 201 "success"; 400 "error: no data" when the form is empty or has no
/// data (as the original); 400 with a reason when a literal does not parse or the lists differ
/// in length. On success `b` gets the lists and a new version.
response update_from_form(board& b, const wire::url::form& fields, std::int64_t now_ms);

/// POST /updateDashboard with a JSON body {"label": [str...], "data": [int...]}; same replies.
/// Never throws: JSON that cannot be read (huge numbers, deep nesting, bad UTF-8) is a 400.
response update_from_json(board& b, std::string_view body, std::int64_t now_ms);

/// POST /updateDashboard: dispatches on the media type (urlencoded or multipart form, JSON;
/// anything else is an empty form, as in Flask) after checking the body size. Never throws,
/// whatever the body: every refusal is a 400 with a reason and leaves `b` as it was.
response update_dashboard(board& b, std::string_view content_type, std::string_view body, std::int64_t now_ms);

/// Whether an Authorization header value is "Bearer <token>" (the scheme in any case), compared
/// in constant time.
bool bearer_matches(std::string_view authorization, std::string_view token);

/// POST /updateDashboard without the right token: 401 with WWW-Authenticate: Bearer.
response unauthorized();

/// What the page needs to know of the server's settings.
struct page_settings {
  std::string subtitle;              ///< a line under the title; text, never markup
  std::int64_t history_ms = 0;       ///< the span of GET /history
  std::int64_t stale_after_ms = 0;   ///< no update for this long: the stream is stale
};

/// GET /config: {"subtitle": "...", "history_ms": N, "stale_after_ms": N}.
response page_config(const page_settings& s);

/// GET /healthz: {"status": "ok", "version": N, "updated": "...", "sse_clients": N}.
response healthz(const board& b, std::size_t sse_clients);

/// A static file served from memory, with the validator browsers revalidate it with.
struct static_file {
  std::string content_type;
  std::string body;
  std::string etag;  ///< a quoted hash of the body
};
using static_files = std::map<std::string, static_file, std::less<>>;

/// A static_file for `name` (type from the extension, ETag from the content).
static_file make_static_file(std::string_view name, std::string body);

/// GET / and GET /static/NAME: the file (304 when `if_none_match` names its ETag), or 404.
/// Never touches the board (the original reset it). The files are not versioned by name, so
/// every one is "Cache-Control: no-cache": the browser keeps it but asks each time, and an
/// unchanged file costs a 304 with no body.
response static_asset(const static_files& files, std::string_view name, std::string_view if_none_match = {});

/// Content type for a file name by its extension.
std::string content_type_for(std::string_view file_name);

/// The board as JSON: {"r_hashtags": [...], "r_counts": [...], "version": N, "updated": "...",
/// "t": Unix ms of the update, "age_ms": how long before `now_ms` it came (null: never updated),
/// "started": the server's start in Unix ms}.
std::string board_event_json(const board& b, std::int64_t now_ms);

}  // namespace dashboard_server
