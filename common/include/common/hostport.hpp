#pragma once
// HOST:PORT arguments as machida and our programs take them.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace common {

struct host_port {
  std::string host;
  std::uint16_t port;
};

/// Parses "HOST:PORT" (also "[v6]:PORT"); nullopt when the port is missing or out of range.
std::optional<host_port> parse_host_port(std::string_view text);

/// "HOST:PORT", with an IPv6 host in brackets: what parse_host_port reads back.
std::string to_string(const host_port& hp);

}  // namespace common
