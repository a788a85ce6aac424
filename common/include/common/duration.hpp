#pragma once
// Durations on the command line: a number with a unit, "500ms", "10s", "5m", "1h", or "0".
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace common {

/// Parses "N" + one of ms, s, m, h (N a non-negative integer or decimal, e.g. "1.5s"), or a bare
/// "0"; nullopt for anything else (a missing unit, a negative value, more than a year).
std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text);

/// The shortest exact text for a duration: "5m", "1500ms", "0".
std::string format_duration(std::chrono::nanoseconds d);

}  // namespace common
