#include "common/stats_line.hpp"

#include <cstdio>

namespace common {

stats_line& stats_line::add(std::string_view key, double value, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  return add_text(key, buf);
}

stats_line& stats_line::add_text(std::string_view key, std::string_view value) {
  text_ += ' ';
  text_ += key;
  text_ += '=';
  text_ += value;
  return *this;
}

}  // namespace common
