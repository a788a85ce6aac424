#include "wire/frame.hpp"

#include <cstdio>

namespace wire::frame {

bool encode_payload(std::string_view payload, std::string& out) {
  if (payload.size() > max_payload) return false;
  char header[header_size + 1];
  std::snprintf(header, sizeof header, "%05zu", payload.size());
  out.append(header, header_size);
  out.append(payload);
  return true;
}

bool encode_tweet(std::string_view text, std::string& out) {
  if (text.size() + 1 > max_payload) return false;
  char header[header_size + 1];
  std::snprintf(header, sizeof header, "%05zu", text.size() + 1);
  out.append(header, header_size);
  out.append(text);
  out.push_back('\n');
  return true;
}

namespace {

std::string describe_bad_header(std::string_view in) {
  std::string out = "header is not 5 ASCII digits: \"";
  const std::size_t n = in.size() < header_size ? in.size() : header_size;
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(in[i]);
    if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      char esc[5];
      std::snprintf(esc, sizeof esc, "\\x%02x", c);
      out += esc;
    }
  }
  out += '"';
  return out;
}

}  // namespace

parsed<std::string_view> decode(std::string_view in) {
  std::size_t length = 0;
  const std::size_t seen = in.size() < header_size ? in.size() : header_size;
  for (std::size_t i = 0; i < seen; ++i) {
    const char c = in[i];
    if (c < '0' || c > '9') return parsed<std::string_view>::bad(i, describe_bad_header(in));
    length = length * 10 + static_cast<std::size_t>(c - '0');
  }
  if (seen < header_size || in.size() < header_size + length) return parsed<std::string_view>::need_more();
  return parsed<std::string_view>::ok(in.substr(header_size, length), header_size + length);
}

}  // namespace wire::frame
