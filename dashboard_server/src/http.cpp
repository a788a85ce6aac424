#include "dashboard_server/http.hpp"

#include <algorithm>
#include <cctype>

#include "wire/url.hpp"

namespace dashboard_server::http {
namespace {

using parsed_head = wire::parsed<request_head>;
using parsed_framing = wire::parsed<body_framing>;

/// Longest chunk-size or trailer line.
constexpr std::size_t max_chunk_line = 4096;

bool is_token_char(unsigned char c) {
  return std::isalnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Whether a comma-separated header value (Connection) holds `token`, in any case.
bool has_token(const std::string* value, std::string_view token) {
  if (!value) return false;
  std::string_view rest = *value;
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    if (iequals(trim(rest.substr(0, comma)), token)) return true;
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
  }
  return false;
}

// Percent-decodes a path: %XX is a byte, a malformed % stays, '+' stays '+' (it is a form's space only).
std::string decode_path(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && wire::url::hex_value(s[i + 1]) >= 0 && wire::url::hex_value(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(wire::url::hex_value(s[i + 1]) * 16 + wire::url::hex_value(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// A line without its "\n" and an optional "\r" before it.
std::string_view chomp(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

parsed_head parse_request_line(std::string_view line, std::size_t at, request_head& head) {
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
    return parsed_head::bad(at, "the request line is not METHOD TARGET HTTP/1.x");
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (method.empty() || !std::all_of(method.begin(), method.end(), [](char c) { return is_token_char(static_cast<unsigned char>(c)); }))
    return parsed_head::bad(at, "the method is not a token");
  if (target.empty() || std::any_of(target.begin(), target.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u <= 0x20 || u == 0x7f;
      }))
    return parsed_head::bad(at + sp1 + 1, "the target is empty or holds a control byte");
  if (version != "HTTP/1.1" && version != "HTTP/1.0") return parsed_head::bad(at + sp2 + 1, "the version is not HTTP/1.0 or HTTP/1.1");
  head.method = method;
  head.target = target;
  const std::size_t q = target.find('?');
  head.path = decode_path(target.substr(0, q));
  head.query = q == std::string_view::npos ? std::string{} : std::string(target.substr(q + 1));
  head.minor_version = version.back() - '0';
  return parsed_head::need_more();  // "fine so far"
}

}  // namespace

const std::string* request_head::header(std::string_view name) const {
  for (const auto& [key, value] : headers)
    if (iequals(key, name)) return &value;
  return nullptr;
}

wire::parsed<request_head> parse_head(std::string_view in) {
  // Clients may send a stray CRLF after a body: empty lines before the request line are skipped.
  std::size_t at = 0;
  while (at < in.size() && (in[at] == '\r' || in[at] == '\n') && at < max_head) ++at;
  request_head head;
  bool first = true;
  while (true) {
    const std::size_t nl = in.find('\n', at);
    if (nl == std::string_view::npos || nl >= max_head) {
      if (in.size() > max_head || nl != std::string_view::npos)
        return parsed_head::bad(max_head, "the request head is over " + std::to_string(max_head) + " bytes");
      return parsed_head::need_more();
    }
    const std::string_view line = chomp(in.substr(at, nl - at));
    if (line.find('\r') != std::string_view::npos || line.find('\0') != std::string_view::npos)
      return parsed_head::bad(at, "a bare CR or a NUL in the request head");
    if (first) {
      auto r = parse_request_line(line, at, head);
      if (r.state == wire::status::bad) return r;
      first = false;
    } else if (line.empty()) {
      return parsed_head::ok(std::move(head), nl + 1);
    } else {
      if (line.front() == ' ' || line.front() == '\t') return parsed_head::bad(at, "a folded header line");
      const std::size_t colon = line.find(':');
      if (colon == std::string_view::npos || colon == 0) return parsed_head::bad(at, "a header line without a name");
      const std::string_view name = line.substr(0, colon);
      if (!std::all_of(name.begin(), name.end(), [](char c) { return is_token_char(static_cast<unsigned char>(c)); }))
        return parsed_head::bad(at, "a header name that is not a token");
      if (head.headers.size() == max_header_lines)
        return parsed_head::bad(at, "more than " + std::to_string(max_header_lines) + " header lines");
      head.headers.emplace_back(std::string(name), std::string(trim(line.substr(colon + 1))));
    }
    at = nl + 1;
  }
}

bool keep_alive(const request_head& head) {
  const std::string* connection = head.header("Connection");
  if (has_token(connection, "close")) return false;
  return head.minor_version >= 1 || has_token(connection, "keep-alive");
}

bool expects_continue(const request_head& head) {
  const std::string* expect = head.header("Expect");
  return expect && iequals(*expect, "100-continue") && head.minor_version >= 1;
}

wire::parsed<body_framing> framing(const request_head& head, std::size_t limit) {
  const std::string* transfer_encoding = nullptr;
  bool has_length = false;
  std::uint64_t length = 0;
  for (const auto& [name, value] : head.headers) {
    if (iequals(name, "Transfer-Encoding")) {
      if (transfer_encoding) return parsed_framing::bad(0, "Transfer-Encoding given twice");
      transfer_encoding = &value;
    } else if (iequals(name, "Content-Length")) {
      // Plain decimal digits only: no sign, no spaces inside, at most 19 digits (fits int64).
      if (value.empty() || value.size() > 19 ||
          !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return parsed_framing::bad(0, "Content-Length '" + value.substr(0, 40) + "' is not a length in bytes");
      const std::uint64_t n = std::stoull(value);
      if (has_length && n != length) return parsed_framing::bad(0, "two different Content-Length headers");
      has_length = true;
      length = n;
    }
  }
  if (transfer_encoding) {
    if (has_length) return parsed_framing::bad(0, "both Content-Length and Transfer-Encoding");
    if (!iequals(trim(*transfer_encoding), "chunked"))
      return parsed_framing::bad(0, "Transfer-Encoding '" + transfer_encoding->substr(0, 40) + "' is not chunked");
    return parsed_framing::ok(body_framing{body_framing::kind::chunked, 0}, 0);
  }
  if (!has_length || length == 0) return parsed_framing::ok(body_framing{}, 0);
  if (length > limit)
    return parsed_framing::bad(0, "body of " + std::to_string(length) + " bytes is over the limit of " +
                                      std::to_string(limit) + " bytes");
  return parsed_framing::ok(body_framing{body_framing::kind::length, length}, 0);
}

void chunked_decoder::fail(std::string why) {
  state_ = wire::status::bad;
  error_ = wire::error{offset_, std::move(why)};
}

std::size_t chunked_decoder::feed(std::string_view in) {
  std::size_t used = 0;
  while (state_ == wire::status::need_more && used < in.size()) {
    if (part_ == part::data) {
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left_, in.size() - used));
      body_.append(in.substr(used, n));
      used += n;
      offset_ += n;
      left_ -= n;
      if (left_ == 0) part_ = part::data_end;
      continue;
    }
    // The other parts are lines: collect up to '\n'.
    const std::size_t nl = in.find('\n', used);
    const std::size_t end = nl == std::string_view::npos ? in.size() : nl + 1;
    line_.append(in.substr(used, end - used));
    offset_ += end - used;
    used = end;
    if (line_.size() > max_chunk_line) {
      fail("a chunk-size or trailer line over " + std::to_string(max_chunk_line) + " bytes");
      break;
    }
    if (part_ == part::data_end && line_ != "\r" && line_ != "\r\n" && line_ != "\n") {
      fail("a chunk not followed by CRLF");
      break;
    }
    if (nl == std::string_view::npos) break;
    const std::string_view line = chomp(std::string_view(line_).substr(0, line_.size() - 1));
    if (part_ == part::size_line) {
      const std::string_view digits = trim(line.substr(0, line.find(';')));  // chunk extensions are ignored
      std::uint64_t size = 0;
      if (digits.empty() || digits.size() > 15) {
        fail("a chunk size that is not a hexadecimal number");
        break;
      }
      bool ok = true;
      for (const char c : digits) {
        const int v = wire::url::hex_value(c);
        if (v < 0) ok = false;
        size = size * 16 + static_cast<std::uint64_t>(v < 0 ? 0 : v);
      }
      if (!ok) {
        fail("a chunk size that is not a hexadecimal number");
        break;
      }
      if (size > limit_ - std::min<std::size_t>(limit_, body_.size())) {
        fail("body over the limit of " + std::to_string(limit_) + " bytes");
        break;
      }
      left_ = size;
      part_ = size == 0 ? part::trailer : part::data;
    } else if (part_ == part::data_end) {
      part_ = part::size_line;
    } else if (line.empty()) {  // the blank line after the trailers
      state_ = wire::status::ok;
    } else if (offset_ - body_.size() > max_head + max_chunk_line * 64) {
      fail("trailers too long");
      break;
    }
    line_.clear();
  }
  return used;
}

std::string_view reason(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Payload Too Large";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    default: return "Unknown";
  }
}

namespace {
std::string head_lines(const response& r) {
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " + std::string(reason(r.status)) + "\r\n";
  if (!r.content_type.empty()) out += "Content-Type: " + r.content_type + "\r\n";
  for (const auto& [name, value] : r.headers) out += name + ": " + value + "\r\n";
  // Every response: no page of ours leaks its address to another site, and no body is sniffed
  // into a type other than the one it is sent as.
  out += "Referrer-Policy: no-referrer\r\nX-Content-Type-Options: nosniff\r\n";
  return out;
}
}  // namespace

std::string serialize(const response& r, bool keep_alive, bool head_only) {
  std::string out = head_lines(r);
  const bool bodyless = r.status == 304 || r.status == 204 || r.status < 200;
  if (!bodyless) out += "Content-Length: " + std::to_string(r.payload().size()) + "\r\n";
  if (!keep_alive) out += "Connection: close\r\n";
  out += "\r\n";
  if (!head_only && !bodyless) out += r.payload();
  return out;
}

std::string stream_head(const response& r) {
  return head_lines(r) + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
}

std::string chunk(std::string_view data) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string size;
  for (std::size_t n = data.size(); n > 0 || size.empty(); n /= 16) {
    size.insert(size.begin(), hex[n % 16]);
    if (n == 0) break;
  }
  std::string out = size + "\r\n";
  out += data;
  out += "\r\n";
  return out;
}

}  // namespace dashboard_server::http
