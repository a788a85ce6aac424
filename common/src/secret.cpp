#include "common/secret.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace common::secret {

std::optional<std::string> parse_token(std::string_view text, std::string& error) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  if (text.empty()) {
    error = "holds no token";
    return std::nullopt;
  }
  if (text.size() > max_token) {
    error = "holds more than " + std::to_string(max_token) + " bytes; a token is one line";
    return std::nullopt;
  }
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u > 0x7e) {
      error = "holds a character that is not visible ASCII (a token is one word of printable ASCII)";
      return std::nullopt;
    }
  }
  return std::string(text);
}

loaded load_token(const char* env_name, const std::string& path, std::string_view flag) {
  std::string error;
  if (path.empty()) {
    const char* value = std::getenv(env_name);
    if (value == nullptr || *value == '\0') return {};
    auto token = parse_token(value, error);
    if (!token) return {std::nullopt, std::string(env_name) + " " + error};
    return {std::move(token), {}};
  }
  const std::string name = std::string(flag) + " " + path;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {std::nullopt, name + ": " + std::strerror(errno)};
  if (!S_ISREG(st.st_mode)) return {std::nullopt, name + " is not a regular file"};
  if (open_to_others(st.st_mode))
    return {std::nullopt, name + " may be opened by its group or others; refusing it (chmod 600 " + path + ")"};
  std::ifstream in(path, std::ios::binary);
  if (!in) return {std::nullopt, name + ": cannot be read"};
  std::string text;
  // A token is short: never read more than a little past the limit, whatever the file holds.
  text.resize(max_token + 64);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  auto token = parse_token(text, error);
  if (!token) return {std::nullopt, name + " " + error};
  return {std::move(token), {}};
}

bool equal_constant_time(std::string_view a, std::string_view b) noexcept {
  // Every byte of the longer one is visited; the lengths themselves are no secret worth keeping.
  const std::size_t n = a.size() > b.size() ? a.size() : b.size();
  unsigned diff = a.size() == b.size() ? 0u : 1u;
  for (std::size_t i = 0; i < n; ++i) {
    const auto x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0u;
    const auto y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0u;
    diff |= x ^ y;
  }
  return diff == 0;
}

}  // namespace common::secret
