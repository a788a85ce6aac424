#pragma once
// The one stats line of all four programs: "stats: key=value key=value ...", keys in the order
// added, so that people and scripts read every program's lines the same way.
#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>

namespace common {

class stats_line {
public:
  /// An integer counter or gauge.
  template <std::integral T>
  stats_line& add(std::string_view key, T value) {
    return add_text(key, std::to_string(value));
  }
  /// A rate or ratio, with `decimals` digits after the point.
  stats_line& add(std::string_view key, double value, int decimals = 0);
  /// A word (no spaces: a state such as "connected").
  stats_line& add(std::string_view key, std::string_view word) { return add_text(key, word); }
  stats_line& add(std::string_view key, const char* word) { return add_text(key, word); }

  /// "stats: k=v k=v".
  const std::string& str() const noexcept { return text_; }

private:
  stats_line& add_text(std::string_view key, std::string_view value);
  std::string text_ = "stats:";
};

}  // namespace common
