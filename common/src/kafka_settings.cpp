#include "common/kafka_settings.hpp"

#include <sys/stat.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "common/secret.hpp"

namespace common::kafka_settings {
namespace {

std::string_view trim(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

bool valid_key(std::string_view key) {
  if (key.empty()) return false;
  for (const char c : key) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return false;
  }
  return true;
}

}  // namespace

bool is_secret(std::string_view key) noexcept {
  // librdkafka's CONFIGURATION.md: every setting holding a password or a secret has one of these
  // words in its name; ssl.key.pem (ssl_key) carries a private key, sasl.oauthbearer.config and
  // sasl.oauthbearer.extensions may carry credentials.
  static constexpr std::array<std::string_view, 3> words{"password", "secret", "passwd"};
  static constexpr std::array<std::string_view, 4> keys{"ssl.key.pem", "ssl_key", "sasl.oauthbearer.config",
                                                        "sasl.oauthbearer.extensions"};
  std::string lower(key);
  for (char& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  for (const auto w : words)
    if (lower.find(w) != std::string::npos) return true;
  for (const auto k : keys)
    if (lower == k) return true;
  return false;
}

std::optional<setting> parse_option(std::string_view text, std::string& error) {
  const auto eq = text.find('=');
  if (eq == std::string_view::npos || !valid_key(text.substr(0, eq))) {
    error = "is not KEY=VALUE";
    return std::nullopt;
  }
  setting s{std::string(text.substr(0, eq)), std::string(text.substr(eq + 1))};
  if (is_secret(s.key)) {
    error = s.key + " holds a secret, which every user of this machine could read on a command line; "
                    "put it in a --kafka-config file that only you can read (chmod 600)";
    return std::nullopt;
  }
  return s;
}

std::optional<std::vector<setting>> parse_file(std::string_view text, std::string& error) {
  if (text.size() > max_file) {
    error = "is larger than " + std::to_string(max_file) + " bytes";
    return std::nullopt;
  }
  std::vector<setting> out;
  std::size_t number = 0;
  while (!text.empty()) {
    const auto end = text.find('\n');
    const std::string_view line = trim(text.substr(0, end));
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    ++number;
    if (line.empty() || line.front() == '#' || line.front() == '!') continue;
    const auto eq = line.find('=');
    const std::string_view key = eq == std::string_view::npos ? std::string_view{} : trim(line.substr(0, eq));
    if (!valid_key(key)) {
      error = "line " + std::to_string(number) + " is not KEY=VALUE";
      return std::nullopt;
    }
    out.push_back({std::string(key), std::string(trim(line.substr(eq + 1)))});
  }
  return out;
}

std::optional<std::vector<setting>> load_file(const std::string& path, std::string& error) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    error = std::strerror(errno);
    return std::nullopt;
  }
  if (!S_ISREG(st.st_mode)) {
    error = "is not a regular file";
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot be read";
    return std::nullopt;
  }
  std::string text(max_file + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  auto settings = parse_file(text, error);
  if (!settings) return std::nullopt;
  for (const auto& s : *settings) {
    if (is_secret(s.key) && secret::open_to_others(st.st_mode)) {
      error = "holds " + s.key + " but its group or others may open it; refusing it (chmod 600 " + path + ")";
      return std::nullopt;
    }
  }
  return settings;
}

std::optional<std::vector<setting>> gather(const std::string& config_file, const std::vector<std::string>& options,
                                           std::string& error) {
  std::vector<setting> out;
  if (!config_file.empty()) {
    auto from_file = load_file(config_file, error);
    if (!from_file) {
      error = "--kafka-config " + config_file + " " + error;
      return std::nullopt;
    }
    out = std::move(*from_file);
  }
  for (const auto& o : options) {
    auto s = parse_option(o, error);
    if (!s) {
      error = "--kafka-option " + error;
      return std::nullopt;
    }
    out.push_back(std::move(*s));
  }
  return out;
}

}  // namespace common::kafka_settings
