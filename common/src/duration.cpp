#include "common/duration.hpp"

#include <charconv>
#include <cmath>

namespace common {

std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text) {
  using namespace std::chrono;
  if (text == "0") return nanoseconds(0);
  std::size_t unit_at = 0;
  while (unit_at < text.size() && ((text[unit_at] >= '0' && text[unit_at] <= '9') || text[unit_at] == '.')) ++unit_at;
  const std::string_view number = text.substr(0, unit_at);
  const std::string_view unit = text.substr(unit_at);
  if (number.empty() || number.front() == '.' || number.back() == '.') return std::nullopt;
  double value = 0;
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (ec != std::errc{} || end != number.data() + number.size() || !std::isfinite(value)) return std::nullopt;
  double ns_per_unit = 0;
  if (unit == "ms") ns_per_unit = 1e6;
  else if (unit == "s") ns_per_unit = 1e9;
  else if (unit == "m") ns_per_unit = 60e9;
  else if (unit == "h") ns_per_unit = 3600e9;
  else return std::nullopt;
  const double ns = value * ns_per_unit;
  if (ns > 366.0 * 24 * 3600e9) return std::nullopt;
  return nanoseconds(static_cast<long long>(std::llround(ns)));
}

std::string format_duration(std::chrono::nanoseconds d) {
  using namespace std::chrono;
  const long long ns = d.count();
  if (ns == 0) return "0";
  for (const auto& [unit, size] : {std::pair{"h", 3600'000'000'000LL}, std::pair{"m", 60'000'000'000LL},
                                   std::pair{"s", 1'000'000'000LL}, std::pair{"ms", 1'000'000LL}})
    if (ns % size == 0) return std::to_string(ns / size) + unit;
  return std::to_string(ns) + "ns";
}

}  // namespace common
