#include "twitter_client/credentials.hpp"

namespace twitter_client {

namespace {
std::string_view trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}
}  // namespace

std::optional<credential_map> parse_credentials(std::string_view text, std::string& error) {
  credential_map out;
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const auto nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (line.empty() || line.front() == '#') continue;
    if (line.substr(0, 7) == "export ") line = trim(line.substr(7));
    const auto eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      error = "line " + std::to_string(line_no) + " is not KEY=VALUE";
      return std::nullopt;
    }
    const std::string_view key = trim(line.substr(0, eq));
    std::string_view value = trim(line.substr(eq + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front())
      value = value.substr(1, value.size() - 2);
    out[std::string(key)] = std::string(value);
  }
  return out;
}

std::string default_source(const credential_map& creds) {
  auto has = [&](std::string_view k) {
    auto it = creds.find(k);
    return it != creds.end() && !it->second.empty();
  };
  if (has("TWITTER_BEARER_TOKEN")) return "twitter";
  if (has("TWITTER_CONSUMER_KEY") && has("TWITTER_CONSUMER_SECRET") && has("TWITTER_ACCESS_TOKEN") &&
      has("TWITTER_ACCESS_SECRET"))
    return "twitter-v1";
  return "synthetic";
}

}  // namespace twitter_client
