#include "common/log.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdio>

#include "common/time.hpp"

namespace common::log {

namespace {
std::string program_name = "trend";
std::atomic<level> minimum{level::info};

const char* level_name(level lv) {
  switch (lv) {
    case level::debug: return "debug";
    case level::info: return "info";
    case level::warn: return "warn";
    case level::error: return "error";
  }
  return "?";
}

// Length of the well-formed UTF-8 sequence at s[i] (2 to 4), or 0.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  auto cont = [&](std::size_t k) { return i + k < s.size() && (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    const auto c1 = static_cast<unsigned char>(s[i + 1]);
    if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 >= 0xA0)) return 0;
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    const auto c1 = static_cast<unsigned char>(s[i + 1]);
    if ((c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 >= 0x90)) return 0;
    return 4;
  }
  return 0;
}

// C1 controls (U+0080-U+009F) and the bidirectional and zero-width format characters
// (U+200B-U+200F, U+202A-U+202E, U+2066-U+2069), which could disguise a log line.
bool disguising(std::string_view s, std::size_t i, std::size_t n) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  if (n == 2) return b(0) == 0xC2 && b(1) < 0xA0;
  if (n != 3 || b(0) != 0xE2) return false;
  return (b(1) == 0x80 && ((b(2) >= 0x8B && b(2) <= 0x8F) || (b(2) >= 0xAA && b(2) <= 0xAE))) ||
         (b(1) == 0x81 && b(2) >= 0xA6 && b(2) <= 0xA9);
}
}  // namespace

void set_program(std::string_view name) { program_name = std::string(name); }
void set_level(level min) { minimum = min; }

std::optional<level> parse_level(std::string_view name) {
  if (name == "debug") return level::debug;
  if (name == "info") return level::info;
  if (name == "warn") return level::warn;
  if (name == "error") return level::error;
  return std::nullopt;
}

std::string escape(std::string_view text, std::size_t max_bytes) {
  const std::string_view shown = text.substr(0, max_bytes);
  std::string out;
  out.reserve(shown.size() + 8);
  auto hex = [&out](unsigned char c) {
    char buf[5];
    std::snprintf(buf, sizeof buf, "\\x%02x", c);
    out += buf;
  };
  for (std::size_t i = 0; i < shown.size();) {
    const auto c = static_cast<unsigned char>(shown[i]);
    if (c == '\\') {
      out += "\\\\";
      ++i;
    } else if (c == '\n') {
      out += "\\n";
      ++i;
    } else if (c == '\r') {
      out += "\\r";
      ++i;
    } else if (c == '\t') {
      out += "\\t";
      ++i;
    } else if (c >= 0x20 && c < 0x7F) {
      out.push_back(static_cast<char>(c));
      ++i;
    } else if (const std::size_t n = utf8_length(shown, i); n > 0 && !disguising(shown, i, n)) {
      out.append(shown, i, n);
      i += n;
    } else {
      hex(c);
      ++i;
    }
  }
  if (text.size() > shown.size()) out += "...(" + std::to_string(text.size()) + " bytes)";
  return out;
}

void write(level lv, std::string_view message) {
  if (lv < minimum.load(std::memory_order_relaxed)) return;
  const std::string stamp = iso8601_utc(unix_ms());
  std::string line;
  line.reserve(message.size() + program_name.size() + 48);
  line += stamp;
  line += ' ';
  line += program_name;
  line += ' ';
  line += level_name(lv);
  line += ": ";
  line += message;
  line += '\n';
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    const ssize_t w = ::write(STDERR_FILENO, p, left);
    if (w <= 0) break;
    p += w;
    left -= static_cast<std::size_t>(w);
  }
}

}  // namespace common::log
