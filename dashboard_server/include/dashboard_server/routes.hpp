#pragma once
// The dashboard's routes as pure functions: request fields in, status/content type/body out,
// over a `board` (the current top-10). main.cpp does the HTTP, the locking and the streaming.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dashboard_server {

/// Largest request body accepted (a top-10 record is a few hundred bytes).
inline constexpr std::size_t max_body = 64 * 1024;

/// The current top list and when it last changed.
struct board {
  std::vector<std::string> labels;
  std::vector<std::int64_t> counts;
  std::uint64_t version = 0;     ///< bumped by every accepted update; 0 = never updated
  std::int64_t updated_ms = 0;   ///< Unix time of the last update in milliseconds
  bool operator==(const board&) const = default;
};

using header_list = std::vector<std::pair<std::string, std::string>>;

/// What a route answers.
struct response {
  int status = 200;
  std::string content_type;
  std::string body;
  header_list headers;
};

/// Decoded form fields in order; duplicates kept (the first one wins, as in Flask).
using form = std::vector<std::pair<std::string, std::string>>;

/// Decodes an application/x-www-form-urlencoded body as werkzeug does: '+' is a space, %XX a
/// byte, a malformed % sequence stays as it is, a field without '=' has an empty value.
form parse_form(std::string_view body);

/// The media type of a Content-Type header value, lower-cased, parameters dropped.
std::string media_type(std::string_view content_type);

/// GET /refreshDashboard: {"r_hashtags": [...], "r_counts": [...]}, plus X-Board-Version and
/// X-Board-Updated headers so the polling page can show the time of the last update.
response refresh_dashboard(const board& b);

/// POST /updateDashboard with a urlencoded (or multipart, decoded by the caller) form: label and
/// data are Python list literals. 201 "success"; 400 "error: no data" when the form is empty or
/// has no data (as the original); 400 with a reason when a literal does not parse, the lists
/// differ in length, or the body is too large. On success `b` gets the lists and a new version.
response update_from_form(board& b, const form& fields, std::int64_t now_ms);

/// POST /updateDashboard with a JSON body {"label": [str...], "data": [int...]}; same replies.
response update_from_json(board& b, std::string_view body, std::int64_t now_ms);

/// POST /updateDashboard: dispatches on the media type (urlencoded form, JSON; anything else is
/// an empty form, as in Flask) after checking the body size.
response update_dashboard(board& b, std::string_view content_type, std::string_view body, std::int64_t now_ms);

/// GET /healthz: {"status": "ok", "version": N, "updated": "...", "sse_clients": N}.
response healthz(const board& b, std::size_t sse_clients);

/// A static file served from memory.
struct static_file {
  std::string content_type;
  std::string body;
};
using static_files = std::map<std::string, static_file, std::less<>>;

/// GET / and GET /static/NAME: the file, or 404. Never touches the board (the original reset it).
response static_asset(const static_files& files, std::string_view name);

/// Content type for a file name by its extension.
std::string content_type_for(std::string_view file_name);

/// The board as JSON: {"r_hashtags": [...], "r_counts": [...], "version": N, "updated": "..."}.
std::string board_event_json(const board& b);

/// One Server-Sent Event carrying the board; its id is the version.
std::string sse_event(const board& b);

/// What an event stream starts with: the reconnect delay the browser should use.
std::string sse_preamble();

/// A comment line that keeps proxies and the browser from timing the stream out.
std::string sse_heartbeat();

/// "2026-11-25T10:00:00.123Z" for Unix milliseconds; "" for 0 (never).
std::string iso8601_utc(std::int64_t ms);

}  // namespace dashboard_server
