#include "dashboard_server/routes.hpp"

#include <nlohmann/json.hpp>

#include <cctype>
#include <cstdio>
#include <ctime>
#include <optional>

#include "wire/pylit.hpp"

namespace dashboard_server {
namespace {

using json = nlohmann::json;

// Labels may hold lone surrogates (a Python literal "\ud800" is legal): replace them rather than throw.
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

response text(int status, std::string body) {
  return response{status, "text/plain; charset=utf-8", std::move(body), {}};
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string form_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

const std::string* first(const form& fields, std::string_view name) {
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

}  // namespace

form parse_form(std::string_view body) {
  form fields;
  while (!body.empty()) {
    const std::size_t amp = body.find('&');
    const std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view{} : body.substr(amp + 1);
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    fields.emplace_back(form_decode(pair.substr(0, eq)),
                        eq == std::string_view::npos ? std::string{} : form_decode(pair.substr(eq + 1)));
  }
  return fields;
}

std::string media_type(std::string_view content_type) {
  content_type = content_type.substr(0, content_type.find(';'));
  std::string out;
  for (const char c : content_type)
    if (c != ' ' && c != '\t') out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return out;
}

std::string iso8601_utc(std::int64_t ms) {
  if (ms <= 0) return {};
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char out[64];
  std::snprintf(out, sizeof out, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return out;
}

response refresh_dashboard(const board& b) {
  const json j = {{"r_hashtags", b.labels}, {"r_counts", b.counts}};
  response r{200, "application/json", dump(j), {}};
  r.headers.emplace_back("X-Board-Version", std::to_string(b.version));
  r.headers.emplace_back("X-Board-Updated", iso8601_utc(b.updated_ms));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

response update_from_form(board& b, const form& fields, std::int64_t now_ms) {
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
  json j;
  try {
    j = json::parse(body);
  } catch (const json::parse_error& e) {
    return text(400, std::string("error: body is not JSON (") + e.what() + ")");
  }
  if (!j.is_object() || !j.contains("data")) return text(400, "error: no data");
  if (!j.contains("label")) return text(400, "error: no label");
  const json& label = j["label"];
  const json& data = j["data"];
  if (!label.is_array()) return text(400, "error: label is not a JSON array of strings");
  if (!data.is_array()) return text(400, "error: data is not a JSON array of integers");
  std::vector<std::string> labels;
  std::vector<std::int64_t> counts;
  for (const auto& item : label) {
    if (!item.is_string()) return text(400, "error: label is not a JSON array of strings");
    labels.push_back(item.get<std::string>());
  }
  for (const auto& item : data) {
    if (!item.is_number_integer() || (item.is_number_unsigned() && item.get<std::uint64_t>() > INT64_MAX))
      return text(400, "error: data is not a JSON array of integers");
    counts.push_back(item.get<std::int64_t>());
  }
  return accept(b, std::move(labels), std::move(counts), now_ms);
}

response update_dashboard(board& b, std::string_view content_type, std::string_view body, std::int64_t now_ms) {
  if (body.size() > max_body)
    return text(400, "error: body of " + std::to_string(body.size()) + " bytes is over the limit of " +
                         std::to_string(max_body));
  const std::string type = media_type(content_type);
  if (type == "application/json") return update_from_json(b, body, now_ms);
  if (type == "application/x-www-form-urlencoded") return update_from_form(b, parse_form(body), now_ms);
  return update_from_form(b, form{}, now_ms);  // Flask's request.form is empty for other bodies
}

response healthz(const board& b, std::size_t sse_clients) {
  const json j = {{"status", "ok"},
                  {"version", b.version},
                  {"updated", iso8601_utc(b.updated_ms)},
                  {"sse_clients", sse_clients}};
  response r{200, "application/json", dump(j), {}};
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

response static_asset(const static_files& files, std::string_view name) {
  auto it = files.find(name);
  if (it == files.end()) return text(404, "error: not found");
  response r{200, it->second.content_type, it->second.body, {}};
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  if (name == "index.html") {
    // Defence in depth: even if a hashtag ever reached the markup, no inline script could run.
    r.headers.emplace_back("Content-Security-Policy",
                           "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'");
    r.headers.emplace_back("Cache-Control", "no-cache");
  }
  return r;
}

std::string board_event_json(const board& b) {
  const json j = {{"r_hashtags", b.labels},
                  {"r_counts", b.counts},
                  {"version", b.version},
                  {"updated", iso8601_utc(b.updated_ms)}};
  return dump(j);
}

std::string sse_event(const board& b) {
  // dump() escapes control characters, so the JSON is one line and cannot end the event early.
  return "id: " + std::to_string(b.version) + "\ndata: " + board_event_json(b) + "\n\n";
}

std::string sse_preamble() { return "retry: 1000\n\n"; }

std::string sse_heartbeat() { return ": keep-alive\n\n"; }

}  // namespace dashboard_server
