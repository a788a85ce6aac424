#pragma once
// The parts of the URLs the live sources connect to (ws, wss, http, https). Pure.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace twitter_client {

struct url_parts {
  std::string scheme;  ///< lower case: "ws", "wss", "http", "https"
  std::string host;    ///< without the brackets of an IPv6 literal
  std::uint16_t port = 0;  ///< the scheme's default when the URL names none
  std::string target;  ///< path and query, "/" at least
  bool tls() const { return scheme == "wss" || scheme == "https"; }
};

/// Splits an absolute ws://, wss://, http:// or https:// URL; nullopt for anything else (other
/// schemes, user info, a fragment, a bad port, an empty host).
std::optional<url_parts> split_url(std::string_view url);

/// `target` with `key=value` appended to its query (value percent-encoded).
std::string add_query(std::string target, std::string_view key, std::string_view value);

}  // namespace twitter_client
