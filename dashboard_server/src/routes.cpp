#include "dashboard_server/routes.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdio>
#include <exception>
#include <optional>

#include "common/secret.hpp"
#include "common/time.hpp"
#include "wire/pylit.hpp"

namespace dashboard_server {
namespace {

using json = nlohmann::json;

// Labels may hold lone surrogates (a Python literal "\ud800" is legal): replace them rather than throw.
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

const std::string* first(const wire::url::form& fields, std::string_view name) {
  for (const auto& [key, value] : fields)
    if (key == name) return &value;
  return nullptr;
}

response accept(board& b, std::vector<std::string> labels, std::vector<std::int64_t> counts, std::int64_t now_ms) {
  if (labels.size() != counts.size())
    return text(400, "error: label has " + std::to_string(labels.size()) + " items but data has " +
                         std::to_string(counts.size()));
  b.labels = std::move(labels);
  b.counts = std::move(counts);
  ++b.version;
  b.updated_ms = now_ms;
  return text(201, "success");
}

// The deepest nesting of arrays and objects, counted outside strings. nlohmann's parser and
// destructor recurse over nesting, so an absurdly deep body is refused before it is parsed.
std::size_t json_depth(std::string_view body) {
  std::size_t depth = 0, deepest = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

// The value of a parameter of a Content-Type ("boundary"), unquoted; nullopt when absent.
std::optional<std::string> type_parameter(std::string_view content_type, std::string_view name) {
  std::size_t at = content_type.find(';');
  while (at != std::string_view::npos) {
    std::string_view rest = content_type.substr(at + 1);
    const std::size_t next = rest.find(';');
    std::string_view param = rest.substr(0, next);
    while (!param.empty() && (param.front() == ' ' || param.front() == '\t')) param.remove_prefix(1);
    const std::size_t eq = param.find('=');
    if (eq != std::string_view::npos) {
      std::string key;
      for (const char c : param.substr(0, eq))
        if (c != ' ' && c != '\t') key.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
      std::string_view value = param.substr(eq + 1);
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
      if (key == name) return std::string(value);
    }
    at = next == std::string_view::npos ? next : at + 1 + next;
  }
  return std::nullopt;
}

}  // namespace

response text(int status, std::string body) {
  return response{status, "text/plain; charset=utf-8", std::move(body), {}, {}};
}

std::string media_type(std::string_view content_type) {
  content_type = content_type.substr(0, content_type.find(';'));
  std::string out;
  for (const char c : content_type)
    if (c != ' ' && c != '\t') out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return out;
}

wire::url::form parse_multipart(std::string_view content_type, std::string_view body) {
  const std::string boundary = type_parameter(content_type, "boundary").value_or("");
  if (boundary.empty() || boundary.size() > 200) return {};
  const std::string delimiter = "--" + boundary;
  wire::url::form fields;
  // The body is: preamble, then "--B" CRLF headers CRLF CRLF content, each part ended by CRLF "--B",
  // and the last delimiter followed by "--".
  std::size_t at = body.find(delimiter);
  if (at == std::string_view::npos) return {};
  at += delimiter.size();
  while (true) {
    if (body.substr(at, 2) == "--") return fields;  // the closing delimiter
    if (body.substr(at, 2) != "\r\n") return {};
    at += 2;
    const std::size_t head_end = body.find("\r\n\r\n", at);
    if (head_end == std::string_view::npos) return {};
    const std::string_view head = body.substr(at, head_end - at);
    const std::size_t content_start = head_end + 4;
    const std::size_t end = body.find("\r\n" + delimiter, content_start);
    if (end == std::string_view::npos) return {};
    // The part's name, from its Content-Disposition header.
    std::optional<std::string> name;
    std::size_t line_start = 0;
    while (line_start <= head.size()) {
      const std::size_t line_end = std::min(head.find("\r\n", line_start), head.size());
      const std::string_view line = head.substr(line_start, line_end - line_start);
      const std::size_t colon = line.find(':');
      if (colon != std::string_view::npos && media_type(line.substr(0, colon)) == "content-disposition") {
        name = type_parameter(line.substr(colon + 1), "name");
      }
      line_start = line_end + 2;
    }
    if (name) fields.emplace_back(std::move(*name), std::string(body.substr(content_start, end - content_start)));
    at = end + 2 + delimiter.size();
  }
}

response refresh_dashboard(const board& b, std::int64_t now_ms) {
  const json j = {{"r_hashtags", b.labels}, {"r_counts", b.counts}};
  response r{200, "application/json", dump(j), {}, {}};
  r.headers.emplace_back("X-Board-Version", std::to_string(b.version));
  r.headers.emplace_back("X-Board-Updated", common::iso8601_utc(b.updated_ms));
  r.headers.emplace_back("X-Board-Started", std::to_string(b.started_ms));
  if (b.version > 0) r.headers.emplace_back("X-Board-Age-Ms", std::to_string(std::max<std::int64_t>(0, now_ms - b.updated_ms)));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

response update_from_form(board& b, const wire::url::form& fields, std::int64_t now_ms) {
  const std::string* data = first(fields, "data");
  if (fields.empty() || !data) return text(400, "error: no data");
  const std::string* label = first(fields, "label");
  if (!label) return text(400, "error: no label");
  auto labels = wire::pylit::parse_str_list(*label);
  if (!labels)
    return text(400, "error: label is not a Python list of str (" + labels.error.message + " at byte " +
                         std::to_string(labels.error.offset) + ")");
  auto counts = wire::pylit::parse_int_list(*data);
  if (!counts)
    return text(400, "error: data is not a Python list of int (" + counts.error.message + " at byte " +
                         std::to_string(counts.error.offset) + ")");
  return accept(b, std::move(*labels), std::move(*counts), now_ms);
}

response update_from_json(board& b, std::string_view body, std::int64_t now_ms) {
  if (json_depth(body) > max_json_depth)
    return text(400, "error: body is not JSON we read (nested deeper than " + std::to_string(max_json_depth) + ")");
  json j;
  try {
    j = json::parse(body);
  } catch (const json::exception& e) {
    // parse_error, and also out_of_range for a number such as 1e99999 that no double holds.
    return text(400, std::string("error: body is not JSON (") + e.what() + ")");
  }
  if (!j.is_object() || !j.contains("data")) return text(400, "error: no data");
  if (!j.contains("label")) return text(400, "error: no label");
  const json& label = j.at("label");
  const json& data = j.at("data");
  if (!label.is_array()) return text(400, "error: label is not a JSON array of strings");
  if (!data.is_array()) return text(400, "error: data is not a JSON array of integers");
  std::vector<std::string> labels;
  std::vector<std::int64_t> counts;
  for (const auto& item : label) {
    if (!item.is_string()) return text(400, "error: label is not a JSON array of strings");
    labels.push_back(item.get<std::string>());
  }
  for (const auto& item : data) {
    // A number too large for uint64 (18446744073709551616) is parsed as a float: refused here too.
    if (!item.is_number_integer() || (item.is_number_unsigned() && item.get<std::uint64_t>() > INT64_MAX))
      return text(400, "error: data is not a JSON array of integers");
    counts.push_back(item.get<std::int64_t>());
  }
  return accept(b, std::move(labels), std::move(counts), now_ms);
}

response update_dashboard(board& b, std::string_view content_type, std::string_view body, std::int64_t now_ms) {
  if (body.size() > max_body)
    return text(400, "error: body of " + std::to_string(body.size()) + " bytes is over the limit of " +
                         std::to_string(max_body) + " bytes");
  try {
    const std::string type = media_type(content_type);
    if (type == "application/json") return update_from_json(b, body, now_ms);
    if (type == "application/x-www-form-urlencoded") return update_from_form(b, wire::url::parse_form(body), now_ms);
    if (type == "multipart/form-data") return update_from_form(b, parse_multipart(content_type, body), now_ms);
    return update_from_form(b, wire::url::form{}, now_ms);  // Flask's request.form is empty for other bodies
  } catch (const std::exception& e) {
    // Nothing above is known to throw on any body; should a library do it all the same, the
    // sender gets a reason and the board stays as it was (accept() assigns only at the end).
    return text(400, std::string("error: the body cannot be read (") + e.what() + ")");
  }
}

bool bearer_matches(std::string_view authorization, std::string_view token) {
  // RFC 6750: "Bearer" (RFC 9110: the scheme in any case), one or more spaces, the token.
  constexpr std::string_view scheme = "bearer";
  if (authorization.size() <= scheme.size()) return false;
  for (std::size_t i = 0; i < scheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != scheme[i]) return false;
  std::string_view rest = authorization.substr(scheme.size());
  if (rest.front() != ' ') return false;
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\t')) rest.remove_suffix(1);
  return common::secret::equal_constant_time(rest, token);
}

response unauthorized() {
  response r = text(401, "error: unauthorized: POST /updateDashboard needs the header Authorization: Bearer <token>");
  r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"dashboard\"");
  return r;
}

response page_config(const page_settings& s) {
  const json j = {{"subtitle", s.subtitle}, {"history_ms", s.history_ms}, {"stale_after_ms", s.stale_after_ms}};
  response r{200, "application/json", dump(j), {}, {}};
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

response healthz(const board& b, std::size_t sse_clients) {
  const json j = {{"status", "ok"},
                  {"version", b.version},
                  {"updated", common::iso8601_utc(b.updated_ms)},
                  {"sse_clients", sse_clients}};
  response r{200, "application/json", dump(j), {}, {}};
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

std::string content_type_for(std::string_view name) {
  auto ends = [name](std::string_view ext) {
    return name.size() >= ext.size() && name.substr(name.size() - ext.size()) == ext;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".png")) return "image/png";
  if (ends(".svg")) return "image/svg+xml";
  return "application/octet-stream";
}

static_file make_static_file(std::string_view name, std::string body) {
  std::uint64_t hash = 14695981039346656037ull;  // FNV-1a: a stable validator, not a security measure
  for (const char c : body) hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  char etag[24];
  std::snprintf(etag, sizeof etag, "\"%016llx\"", static_cast<unsigned long long>(hash));
  return static_file{content_type_for(name), std::move(body), etag};
}

response static_asset(const static_files& files, std::string_view name, std::string_view if_none_match) {
  auto it = files.find(name);
  if (it == files.end()) return text(404, "error: not found");
  const static_file& f = it->second;
  const bool unchanged = !if_none_match.empty() && (if_none_match == "*" || if_none_match.find(f.etag) != std::string_view::npos);
  response r{unchanged ? 304 : 200, f.content_type, unchanged ? std::string{} : f.body, {}, {}};
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.headers.emplace_back("ETag", f.etag);
  if (name == "index.html") {
    // Defence in depth: even if a hashtag ever reached the markup, no inline script could run.
    r.headers.emplace_back("Content-Security-Policy",
                           "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'");
  }
  return r;
}

std::string board_event_json(const board& b, std::int64_t now_ms) {
  json j = {{"r_hashtags", b.labels},
            {"r_counts", b.counts},
            {"version", b.version},
            {"updated", common::iso8601_utc(b.updated_ms)},
            {"t", b.updated_ms},
            {"age_ms", nullptr},
            {"started", b.started_ms}};
  if (b.version > 0) j["age_ms"] = std::max<std::int64_t>(0, now_ms - b.updated_ms);
  return dump(j);
}

}  // namespace dashboard_server
